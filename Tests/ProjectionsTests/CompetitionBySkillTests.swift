import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections
import TestSupport
import Testing

@Suite("Competition per skill and ISO week")
struct CompetitionBySkillTests {
    @Test func aWeekOfTwoNLPGigsAgainstHandCountedFigures() async throws {
        let pool = try await TestDatabase.fresh("compskill")
        let service = MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests)
        // Saturday 2026-11-21 09:00 UTC: ISO week 2026-W47 (everything below happens that day).
        let day = Date(timeIntervalSince1970: 1_795_251_600)
        func run(_ fields: [String: JSONValue], at offset: Double = 0) async throws {
            try await service.execute(try CommandInput(fields: fields, now: day.addingTimeInterval(offset)).command())
        }
        let client = UUID().uuidString.lowercased()
        try await run(
            [
                "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client),
                "name": "C", "country": "DE",
            ], at: -86_400)
        var nlp: [String] = []
        for skills in [["nlp", "python"], ["nlp"], ["python"]] {
            let id = UUID().uuidString.lowercased()
            try await run(
                [
                    "command": "RegisterFreelancer", "actor": .string("freelancer:\(id)"), "freelancerId": .string(id),
                    "name": "F",
                    "skills": .array(skills.map { ["skill": .string($0), "level": 2] }),
                    "hourlyRate": ["currency": "EUR", "amount": "50.00"],
                    "hoursPerWeek": 20,
                ], at: -86_400)
            if skills.contains("nlp") { nlp.append(id) }
        }
        let closes = JSONValue.string(ISO8601DateFormatter().string(from: day.addingTimeInterval(5 * 86_400)))
        let busy = UUID().uuidString.lowercased()
        let quiet = UUID().uuidString.lowercased()
        for gig in [busy, quiet] {
            try await run(
                [
                    "command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(client),
                    "gigId": .string(gig),
                    "title": "NLP", "skills": ["nlp"], "budgetMin": ["currency": "EUR", "amount": "100.00"],
                    "budgetMax": ["currency": "EUR", "amount": "200.00"], "biddingClosesAt": closes,
                ], at: 3600)
        }
        var firstBid = ""
        for freelancer in nlp {
            let bid = UUID().uuidString.lowercased()
            if firstBid.isEmpty { firstBid = bid }
            try await run(
                [
                    "command": "PlaceBid", "actor": .string("freelancer:\(freelancer)"), "gigId": .string(busy),
                    "bidId": .string(bid),
                    "amount": ["currency": "EUR", "amount": "150.00"], "estimatedDays": 3,
                ], at: 7200)
        }
        try await run(
            [
                "command": "AcceptBid", "actor": .string("client:\(client)"), "gigId": .string(busy),
                "bidId": .string(firstBid),
            ], at: 10_800)

        let engine = ProjectionEngine(store: service.store, projectors: ShippedProjectors.all)
        try await engine.prepare()
        let total = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        _ = try await eventually { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await engine.status().allSatisfy { $0.eventsApplied >= Int64(total) } ? true : nil
        }
        let row = try #require(
            try await pool.query(
                """
                SELECT iso_week, gigs_posted, bids, bids_per_gig::text AS bpg, gigs_with_no_bids, contracts_started,
                       fill_rate::text AS fill, supply, demand_to_supply::text AS dts, win_rate::text AS win
                FROM read_models.competition_skill_weeks_v1 WHERE skill = 'nlp'
                """
            ).first)
        // Two NLP gigs posted in W47; 2 bids (both on one); one gig without bids; one contract;
        // two freelancers offer NLP.
        #expect(try row.decode(String.self, "iso_week") == "2026-W47")
        #expect(try row.decode(Int.self, "gigs_posted") == 2)
        #expect(try row.decode(Int.self, "bids") == 2)
        #expect(try row.decode(String.self, "bpg") == "1.00")
        #expect(try row.decode(Int.self, "gigs_with_no_bids") == 1)
        #expect(try row.decode(Int.self, "contracts_started") == 1)
        #expect(try row.decode(String.self, "fill") == "0.5000")
        #expect(try row.decode(Int.self, "supply") == 2)
        #expect(try row.decode(String?.self, "dts") == "1.0000")
        #expect(try row.decode(String?.self, "win") == "0.5000")
        // Python has supply but no gigs: no row for it this week.
        #expect(
            try await pool.query("SELECT count(*) FROM read_models.competition_skill_weeks_v1 WHERE skill = 'python'")
                .scalar(Int.self) == 0)
    }
}
