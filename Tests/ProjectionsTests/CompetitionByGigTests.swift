import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections
import TestSupport
import Testing

@Suite("Competition per gig")
struct CompetitionByGigTests {
    @Test func statisticsAreWithheldBelowFiveBidsAndExactAbove() async throws {
        let pool = try await TestDatabase.fresh("compgig")
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        func run(_ fields: [String: JSONValue]) async throws {
            try await service.execute(try CommandInput(fields: fields, now: start).command())
        }
        let client = UUID().uuidString.lowercased()
        let gig = UUID().uuidString.lowercased()
        try await run([
            "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client), "name": "C",
            "country": "DE",
        ])
        try await run([
            "command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(client),
            "gigId": .string(gig),
            "title": "Label", "skills": ["data-labeling"], "budgetMin": ["currency": "EUR", "amount": "500.00"],
            "budgetMax": ["currency": "EUR", "amount": "1000.00"],
            "biddingClosesAt": .string(ISO8601DateFormatter().string(from: start.addingTimeInterval(7 * 86_400))),
        ])
        var bids: [String] = []
        var freelancers: [String] = []
        func bid(_ amount: String) async throws {
            let freelancer = UUID().uuidString.lowercased()
            let bid = UUID().uuidString.lowercased()
            try await run([
                "command": "RegisterFreelancer", "actor": .string("freelancer:\(freelancer)"),
                "freelancerId": .string(freelancer), "name": "F",
                "skills": [["skill": "data-labeling", "level": 2]],
                "hourlyRate": ["currency": "EUR", "amount": "30.00"], "hoursPerWeek": 20,
            ])
            try await run([
                "command": "PlaceBid", "actor": .string("freelancer:\(freelancer)"), "gigId": .string(gig),
                "bidId": .string(bid),
                "amount": ["currency": "EUR", "amount": .string(amount)], "estimatedDays": 5,
            ])
            bids.append(bid)
            freelancers.append(freelancer)
        }
        let projector = CompetitionByGigProjector()
        let engine = ProjectionEngine(store: store, projectors: [projector])
        try await engine.prepare()
        func row() async throws -> Row {
            // Bounded polling: other suites' open transactions may briefly hold the horizon back.
            let expected = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
            _ = try await eventually { () async throws -> Bool? in
                try await engine.catchUpAll()
                let status = try await engine.status().first
                return status.map { $0.eventsApplied >= Int64(expected) } == true ? true : nil
            }
            return try #require(
                try await pool.query(
                    """
                    SELECT bids_total, bids_live, unique_bidders, min_bid_minor, median_bid_minor::text AS median, max_bid_minor,
                           median_to_budget_max::text AS ratio, bucket, status, currency
                    FROM read_models.competition_gigs_v1 WHERE gig_id = \(UUID(uuidString: gig)!)
                    """
                ).first)
        }

        for amount in ["500.00", "600.00", "700.00", "800.00"] { try await bid(amount) }
        var r = try await row()
        #expect(try r.decode(Int.self, "bids_total") == 4)
        #expect(try r.decode(Int64?.self, "min_bid_minor") == nil)
        #expect(try r.decode(String?.self, "median") == nil)
        #expect(try r.decode(String.self, "bucket") == "<5")
        #expect(try r.decode(String.self, "currency") == "EUR")

        for amount in ["900.00", "1000.00"] { try await bid(amount) }
        r = try await row()
        // Sorted 500 600 700 800 900 1000: median (700 + 800) / 2 = 750.00 EUR, ÷ 1000.00 = 0.75.
        #expect(try r.decode(Int.self, "bids_total") == 6)
        #expect(try r.decode(Int.self, "unique_bidders") == 6)
        #expect(try r.decode(Int64?.self, "min_bid_minor") == 50_000)
        #expect(try r.decode(Int64?.self, "max_bid_minor") == 100_000)
        #expect(try r.decode(String?.self, "median") == "75000.0")
        #expect(try r.decode(String?.self, "ratio") == "0.7500")
        #expect(try r.decode(String.self, "bucket") == "5-10")

        // The 500 bid is revised to 950: 600 700 800 900 950 1000 → median 850.
        try await run([
            "command": "ReviseBid", "actor": .string("freelancer:\(freelancers[0])"), "gigId": .string(gig),
            "bidId": .string(bids[0]),
            "amount": ["currency": "EUR", "amount": "950.00"], "estimatedDays": 4,
        ])
        try await run([
            "command": "WithdrawBid", "actor": .string("freelancer:\(freelancers[1])"), "gigId": .string(gig),
            "bidId": .string(bids[1]),
        ])
        r = try await row()
        #expect(try r.decode(String?.self, "median") == "85000.0")
        #expect(try r.decode(Int.self, "bids_total") == 6)
        #expect(try r.decode(Int.self, "bids_live") == 5)

        try await run([
            "command": "AcceptBid", "actor": .string("client:\(client)"), "gigId": .string(gig),
            "bidId": .string(bids[2]),
        ])
        r = try await row()
        #expect(try r.decode(Int.self, "bids_live") == 0)
        #expect(try r.decode(String.self, "status") == "awarded")
    }
}
