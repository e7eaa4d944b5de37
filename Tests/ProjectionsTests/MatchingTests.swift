import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import TestSupport
import Testing

@testable import Projections

@Suite("Matching")
struct MatchingTests {
    struct Market {
        let service: MarketplaceService
        let day = Date(timeIntervalSince1970: 1_793_613_600)
        let client = UUID().uuidString.lowercased()
        func run(_ fields: [String: JSONValue], _ offset: Double = 0) async throws {
            try await service.execute(try CommandInput(fields: fields, now: day.addingTimeInterval(offset)).command())
        }
        func freelancer(_ skills: [(String, Int)], rate: String, id: String = UUID().uuidString.lowercased())
            async throws -> String
        {
            try await run([
                "command": "RegisterFreelancer", "actor": .string("freelancer:\(id)"), "freelancerId": .string(id),
                "name": "F",
                "skills": .array(skills.map { ["skill": .string($0.0), "level": .number(Double($0.1))] }),
                "hourlyRate": ["currency": "EUR", "amount": .string(rate)], "hoursPerWeek": 30,
            ])
            return id
        }
        func gig(_ skills: [String]) async throws -> String {
            let gig = UUID().uuidString.lowercased()
            try await run(
                [
                    "command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(client),
                    "gigId": .string(gig), "title": "G",
                    "skills": .array(skills.map { .string($0) }),
                    "budgetMin": ["currency": "EUR", "amount": "1500.00"],
                    "budgetMax": ["currency": "EUR", "amount": "4000.00"],
                    "biddingClosesAt": .string(ISO8601DateFormatter().string(from: day.addingTimeInterval(5 * 86_400))),
                ], 60)
            return gig
        }
        /// A whole contract for `freelancer`, completed and rated `rating` by the client.
        func completedContract(_ freelancer: String, rating: Int) async throws {
            let gig = try await gig(["python"])
            let bid = UUID().uuidString.lowercased()
            let contract = UUID().uuidString.lowercased()
            let delivery = UUID().uuidString.lowercased()
            try await run(
                [
                    "command": "PlaceBid", "actor": .string("freelancer:\(freelancer)"), "gigId": .string(gig),
                    "bidId": .string(bid),
                    "amount": ["currency": "EUR", "amount": "2000.00"], "estimatedDays": 3,
                ], 120)
            try await run(
                [
                    "command": "AcceptBid", "actor": .string("client:\(client)"), "gigId": .string(gig),
                    "bidId": .string(bid), "contractId": .string(contract),
                ], 180)
            try await run(
                [
                    "command": "SubmitDelivery", "actor": .string("freelancer:\(freelancer)"),
                    "contractId": .string(contract), "deliveryId": .string(delivery),
                ], 240)
            try await run(
                [
                    "command": "ApproveDelivery", "actor": .string("client:\(client)"), "contractId": .string(contract),
                    "deliveryId": .string(delivery),
                ], 300)
            try await run(
                [
                    "command": "SubmitReview", "actor": .string("client:\(client)"), "contractId": .string(contract),
                    "rating": .number(Double(rating)),
                ], 360)
        }
    }

    @Test func componentsRankingAndTheNewcomerSlotAgainstHandComputedValues() async throws {
        let pool = try await TestDatabase.fresh("matching")
        let market = Market(service: MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests))
        try await market.run([
            "command": "RegisterClient", "actor": .string("client:\(market.client)"),
            "clientId": .string(market.client), "name": "C", "country": "DE",
        ])
        // 3800 in budget
        let veteranA = try await market.freelancer([("explainable-ai", 3), ("python", 2)], rate: "95.00")
        let veteranB = try await market.freelancer([("python", 3)], rate: "50.00")  // 2000 in budget
        let weak = try await market.freelancer([("python", 1)], rate: "200.00")  // 8000: outside
        // 2400 in budget
        let newcomer = try await market.freelancer([("explainable-ai", 2), ("python", 1)], rate: "60.00")
        try await market.completedContract(veteranA, rating: 5)
        try await market.completedContract(veteranB, rating: 4)
        let target = try await market.gig(["explainable-ai", "python"])

        let engine = ProjectionEngine(store: market.service.store, projectors: [MatchingProjector()])
        try await engine.prepare()
        let total = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        _ = try await eventually { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await engine.status().allSatisfy { $0.eventsApplied >= Int64(total) } ? true : nil
        }
        let matching = Matching(pool: pool)

        // idf over N = 4 freelancers: python df 4 → ln(5/5)+1 = 1; explainable-ai df 2 → ln(5/3)+1.
        let idfPython = 1.0
        let idfXAI = log(5.0 / 3.0) + 1
        let sum = idfPython + idfXAI
        let a = try #require(
            try await matching.explain(gig: UUID(uuidString: target)!, freelancer: UUID(uuidString: veteranA)!)?.data)
        // Published to 4 decimals: within half a unit of the 4th decimal of the exact value.
        #expect(abs(a.coverage - (idfXAI * 3 / 3 + idfPython * 2 / 3) / sum) <= 0.00005)
        #expect(a.budgetFit == 1)
        #expect(a.availability == 1)  // its contract ended: no active contract
        // Reputation: ratings (5·4 + 5)/(5 + 1) = 25/6 → (25/6 − 1)/4; completion (1 + 2)/(1 + 2 + 1) = 0.75.
        #expect(abs(a.reputation - (0.5 * ((25.0 / 6 - 1) / 4) + 0.5 * 0.75)) <= 0.00005)
        #expect(a.matchedSkills == ["explainable-ai", "python"])
        #expect(a.missingSkills.isEmpty)
        let w = try #require(
            try await matching.explain(gig: UUID(uuidString: target)!, freelancer: UUID(uuidString: weak)!)?.data)
        // 8000.00 against a 4000.00 maximum: one budget-max away → 0.
        #expect(w.budgetFit == 0)
        #expect(w.missingSkills == ["explainable-ai"])
        let n = try #require(
            try await matching.explain(gig: UUID(uuidString: target)!, freelancer: UUID(uuidString: newcomer)!)?.data)
        #expect(n.newcomer)
        // A newcomer starts at the prior: (4 − 1)/4 and 2/3, not at zero.
        #expect(abs(n.reputation - (0.5 * 0.75 + 0.5 * (2.0 / 3))) <= 0.00005)
        // Weights v2; the gig asks for any experience and the newcomer set no preference: both fit 1.
        #expect(n.experienceFit == 1 && n.preferenceFit == 1)
        #expect(abs(n.score - (0.4 * n.coverage + 0.15 + 0.1 + 0.15 * n.reputation + 0.1 + 0.1)) <= 0.0001)

        // Top 2 on score: A, then B or the newcomer; the newcomer slot guarantees the newcomer.
        let top = try await matching.candidates(forGig: UUID(uuidString: target)!, k: 2).data
        #expect(top.count == 2)
        #expect(top[0].freelancerID == UUID(uuidString: veteranA))
        #expect(top.contains { $0.freelancerID == UUID(uuidString: newcomer) })
        #expect(top.allSatisfy { $0.weightsVersion == 2 })
        let all = try await matching.candidates(forGig: UUID(uuidString: target)!, k: 10).data
        #expect(all.count == 4)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(all.allSatisfy { !$0.viaNewcomerSlot })
        // The feed: the newcomer sees the target gig (the only open one it fits).
        let feed = try await matching.feed(forFreelancer: UUID(uuidString: newcomer)!, k: 5).data
        #expect(feed.map(\.gigID) == [UUID(uuidString: target)])

        // Experience and preferences, by hand. An expert gig on both skills; veteran A has one
        // completed python contract, rated 5, and sets its own terms.
        let expertGig = UUID().uuidString.lowercased()
        try await market.run(
            [
                "command": "PostGig", "actor": .string("client:\(market.client)"), "clientId": .string(market.client),
                "gigId": .string(expertGig), "title": "G", "skills": ["explainable-ai", "python"],
                "budgetMin": ["currency": "EUR", "amount": "1500.00"],
                "budgetMax": ["currency": "EUR", "amount": "4000.00"],
                "biddingClosesAt": .string(
                    ISO8601DateFormatter().string(from: market.day.addingTimeInterval(5 * 86_400))),
                "experience": "expert", "engagement": "hourly", "hours": 30,
            ], 400)
        try await market.run(
            [
                "command": "SetPreferences", "actor": .string("freelancer:\(veteranA)"),
                "freelancerId": .string(veteranA),
                "minimumBudget": ["currency": "EUR", "amount": "5000.00"], "currencies": ["USD"],
                "wantedSkills": ["nlp"],
                "maxConcurrentContracts": 2,
            ], 420)
        let all2 = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        _ = try await eventually { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await engine.status().allSatisfy { $0.eventsApplied >= Int64(all2) } ? true : nil
        }
        let x = try #require(
            try await matching.explain(gig: UUID(uuidString: expertGig)!, freelancer: UUID(uuidString: veteranA)!)?.data
        )
        // Evidence: (explainable-ai 0 + python min(1, 1/5)) / 2 = 0.1; quality (25/6 − 1)/4.
        #expect(abs(x.experienceFit - 0.1 * (0.5 + 0.5 * ((25.0 / 6 - 1) / 4))) <= 0.00005)
        // Budget 4000/5000 = 0.8, currency EUR not accepted 0, capacity 2 of 2 free 1, no wanted skill 0.5.
        #expect(abs(x.preferenceFit - (0.8 + 0 + 1 + 0.5) / 4) <= 0.00005)
        // Hourly: 95.00 × 30 hours = 2850.00, inside the budget.
        #expect(x.budgetFit == 1)
        let words = try #require(x.explanation)
        #expect(words.contains { $0.hasPrefix("Experience: the gig asks for expert") && $0.contains("python 1") })
        #expect(words.contains { $0.hasPrefix("Preferences:") && $0.contains("they accept only USD") })
        #expect(words.contains { $0.contains("the gig's 30 hours") })
        // The newcomer, with no completed contract, fits the expert gig 0; candidates carry no words.
        let nx = try #require(
            try await matching.explain(gig: UUID(uuidString: expertGig)!, freelancer: UUID(uuidString: newcomer)!)?.data
        )
        #expect(nx.experienceFit == 0)
        let expertTop = try await matching.candidates(forGig: UUID(uuidString: expertGig)!, k: 2).data
        #expect(expertTop.allSatisfy { $0.explanation == nil })
        // The newcomer slot still holds: the qualified newcomer keeps a place in the top 2.
        #expect(expertTop.contains { $0.freelancerID == UUID(uuidString: newcomer) })
    }

    @Test func theNewcomerSlotOnlyReplacesWhenNoNewcomerMadeIt() {
        func m(_ id: Int, _ score: Double, newcomer: Bool, coverage: Double = 0.9) -> Matching.Match {
            Matching.Match(
                gigID: UUID(), freelancerID: UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", id))!,
                score: score,
                coverage: coverage, budgetFit: 1, availability: 1, reputation: 0.5, experienceFit: 1, preferenceFit: 1,
                newcomer: newcomer, viaNewcomerSlot: false, matchedSkills: [], missingSkills: [], weightsVersion: 1,
                explanation: nil)
        }
        let byID: (Matching.Match, Matching.Match) -> Bool = { $0.freelancerID.uuidString < $1.freelancerID.uuidString }
        let ranked = Matching.rank(
            [m(1, 0.9, newcomer: false), m(2, 0.8, newcomer: false), m(3, 0.7, newcomer: true)], k: 2, tieBreak: byID,
            weights: .v1)
        #expect(ranked.map(\.score) == [0.9, 0.7])
        #expect(ranked[1].viaNewcomerSlot)
        // With k = 1 the best score keeps the only slot.
        let single = Matching.rank(
            [m(1, 0.9, newcomer: false), m(3, 0.7, newcomer: true)], k: 1, tieBreak: byID, weights: .v1)
        #expect(single.map(\.score) == [0.9])
        // An unqualified newcomer (low coverage) does not take the slot.
        let unqualified = Matching.rank(
            [m(1, 0.9, newcomer: false), m(2, 0.8, newcomer: false), m(3, 0.7, newcomer: true, coverage: 0.1)], k: 2,
            tieBreak: byID, weights: .v1)
        #expect(unqualified.map(\.score) == [0.9, 0.8])
        // A newcomer who does not qualify in the top k does not keep the slot from one who does:
        // the best qualified newcomer outside the top k takes the last place.
        let crowded = Matching.rank(
            [
                m(1, 0.9, newcomer: false), m(2, 0.8, newcomer: true, coverage: 0.1), m(3, 0.7, newcomer: false),
                m(4, 0.6, newcomer: true),
            ], k: 3, tieBreak: byID, weights: .v1)
        #expect(crowded.map(\.score) == [0.9, 0.8, 0.6])
        #expect(crowded.map(\.viaNewcomerSlot) == [false, false, true])
        // A qualified newcomer already in the top k: no slot is given.
        let inTop = Matching.rank(
            [m(1, 0.9, newcomer: true), m(2, 0.8, newcomer: false), m(3, 0.7, newcomer: true)], k: 2,
            tieBreak: byID, weights: .v1)
        #expect(inTop.map(\.score) == [0.9, 0.8])
        // Ties are broken by id.
        let tied = Matching.rank(
            [m(5, 0.5, newcomer: true), m(4, 0.5, newcomer: true)], k: 2, tieBreak: byID, weights: .v1)
        #expect(
            tied.map(\.freelancerID.uuidString) == [
                "00000000-0000-0000-0000-000000000004", "00000000-0000-0000-0000-000000000005",
            ])
    }
}
