import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Simulation
import Synchronization
import TestSupport
import Testing

@testable import Projections

@Suite("Fairness audit: cohorts, shares, the four-fifths rule")
struct FairnessAuditTests {
    /// Cohort figures computed by hand: per freelancer, qualified pairs, top-k places, bids, awards.
    static let members: [String: [[Int]]] = [
        "DE": [[20, 12, 15, 7], [20, 8, 15, 3]], "FR": [[20, 7, 15, 0], [20, 3, 15, 2]], "IN": [[10, 5, 5, 1]],
    ]

    @Test func handComputedCohorts() throws {
        let (comparisons, critical, cohorts) = FairnessAudit.judge([("country", Self.members)], minimumSample: 20)
        #expect(cohorts.map(\.cohort) == ["DE", "FR", "IN"])
        let (de, fr, india) = (cohorts[0], cohorts[1], cohorts[2])
        // Totals: 90 qualified, 35 places, 65 bids, 13 awards.
        #expect(de.qualifiedShare == 0.4444 && de.exposureShare == 0.5714)
        // DE: (20/35) ÷ (40/90) = 1.2857; FR: (10/35) ÷ (40/90) = 0.6429, half of DE's.
        #expect(de.exposureRatio == 1.2857 && fr.exposureRatio == 0.6429)
        #expect(de.exposureDisparity == 1 && fr.exposureDisparity == 0.5)
        // Awards: DE (10/13) ÷ (30/65) = 1.6667; FR (2/13) ÷ (30/65) = 0.3333, a fifth of DE's.
        #expect(de.awardRatio == 1.6667 && fr.awardRatio == 0.3333 && fr.awardDisparity == 0.2)
        // IN: 10 qualified pairs and 5 bids, under the minimum sample of 20: not judged. So 4
        // comparisons (DE and FR, exposure and awards): one-sided at 0.05 / 4, z ≥ 2.2414.
        #expect(india.exposureRatio == nil && india.awardRatio == nil && india.exposureZ == nil && !india.flagged)
        #expect(india.bidShare == 0.0769 && india.awardShare == 0.0769)
        #expect(comparisons == 4 && rounded(critical, places: 4) == 2.2414)
        // FR's places per qualified pair: 10/40 = 0.25 against the rest's (DE and IN) 25/50 = 0.5.
        // Per-freelancer variances, n/(n−1) · Σ (places − rate · pairs)² / pairs²: FR 2 · ((7 − 5)²
        // + (3 − 5)²) / 40² = 0.01; the rest 1.5 · ((12 − 10)² + (8 − 10)² + 0²) / 50² = 0.0048;
        // z = 0.25 / √0.0148 = 2.0550. Awards per bid: FR 2/30 against the rest's 11/35, z = 2.0327.
        // Both over 1.96, under 2.2414: with four comparisons, chance; nobody is flagged.
        #expect(de.exposureZ == -1.4744 && fr.exposureZ == 2.055 && fr.awardZ == 2.0327)
        #expect(cohorts.allSatisfy { !$0.flagged })

        // The same freelancers three times over: the same rates, z about √3 times larger; IN's 30
        // pairs are judged now (5 comparisons, z ≥ 2.3263): FR is flagged.
        let (more, higher, tripled) = FairnessAudit.judge(
            [("country", Self.members.mapValues { $0 + $0 + $0 })], minimumSample: 20)
        #expect(more == 5 && rounded(higher, places: 4) == 2.3263)
        #expect(tripled[1].exposureDisparity == 0.5 && tripled[1].exposureZ == 4.4194 && tripled[1].awardZ == 4.1928)
        #expect(tripled.map(\.flagged) == [false, true, false])
        // A dimension of one cohort has nothing to compare with: not judged, not counted.
        let (none, _, alone) = FairnessAudit.judge(
            [("tenure", ["newcomer": [[20, 5, 5, 1], [20, 3, 15, 0]]])], minimumSample: 20)
        #expect(none == 0 && alone[0].exposureZ == nil && alone[0].exposureDisparity == 1 && !alone[0].flagged)
        #expect(rounded(FairnessAudit.criticalZ(comparisons: 1), places: 4) == 1.6449)
        #expect(rounded(FairnessAudit.criticalZ(comparisons: 20), places: 4) == 2.807)
    }

    /// The qualified pairs are counted per freelancer without enumerating them; on a random small
    /// market (currencies, fixed-price and hourly gigs, several skills each, rates and budgets on
    /// grids that put prices exactly on the budget-fit boundary) the counts equal the enumeration
    /// of every (gig, freelancer) pair the audit used to run.
    @Test func qualifiedCountEqualsTheEnumeration() async throws {
        let pool = try await TestDatabase.fresh("auditcount", maxConnections: 4)
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        var random = SeededRandom(seed: 7, stream: 1)
        let skills = ["python", "web", "nlp", "design", "seo", "rust"]
        func pick() -> [String] { Array(Set((0..<random.int(1...3)).map { _ in skills[random.int(0...5)] })).sorted() }
        let client = UUID().uuidString.lowercased()
        try await service.execute(
            try CommandInput(fields: [
                "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client),
                "name": "C", "country": "DE",
            ]).command())
        for _ in 0..<150 {
            let id = UUID().uuidString.lowercased()
            try await service.execute(
                try CommandInput(fields: [
                    "command": "RegisterFreelancer", "actor": .string("freelancer:\(id)"), "freelancerId": .string(id),
                    "name": "F",
                    "skills": .array(
                        pick().map { ["skill": .string($0), "level": .number(Double(random.int(1...3)))] }),
                    "hourlyRate": [
                        "currency": .string(random.chance(0.2) ? "USD" : "EUR"),
                        "minorUnits": .number(Double(500 * random.int(1...40))),
                    ],
                    "hoursPerWeek": 20,
                ]).command())
        }
        let closes = JSONValue.string(ISO8601DateFormatter().string(from: Date().addingTimeInterval(30 * 86_400)))
        for _ in 0..<80 {
            let currency = JSONValue.string(random.chance(0.2) ? "USD" : "EUR")
            let max = 20_000 * random.int(1...30)
            let hourly = random.chance(0.4)
            try await service.execute(
                try CommandInput(fields: [
                    "command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(client),
                    "gigId": .string(UUID().uuidString.lowercased()), "title": "G",
                    "skills": .array(pick().map { .string($0) }),
                    "budgetMin": [
                        "currency": currency, "minorUnits": .number(Double(10_000 * random.int(1...(max / 10_000)))),
                    ],
                    "budgetMax": ["currency": currency, "minorUnits": .number(Double(max))],
                    "biddingClosesAt": closes, "engagement": hourly ? "hourly" : "fixedPrice",
                    "hours": hourly ? .number(Double([5, 10, 20, 40, 80][random.int(0...4)])) : .null,
                ]).command())
        }
        let engine = ProjectionEngine(store: store, projectors: [MatchingProjector()], owner: "auditcount")
        try await engine.prepare()
        _ = try await eventually(timeout: .seconds(60)) { () async throws -> Bool? in
            try await engine.catchUpAll()
            let gigs = try await pool.query("SELECT count(*) FROM read_models.match_gigs_v4").scalar(Int.self)
            let freelancers = try await pool.query("SELECT count(*) FROM read_models.match_freelancers_v4").scalar(
                Int.self)
            return gigs == 80 && freelancers == 150 ? true : nil
        }
        let audit = FairnessAudit(pool: pool)
        let (from, to) = (Date(timeIntervalSince1970: 0), Date().addingTimeInterval(365 * 86_400))
        let counted = try await pool.withConnection { try await audit.qualifiedPairs(from: from, to: to, $0) }
        // Every pair enumerated: one of the gig's skills, the gig's currency, a budget fit above 0.
        let hours = Matching.Weights.v2.typicalGigHours
        var enumerated: [UUID: Int] = [:]
        for row in try await pool.query(
            """
            SELECT f.freelancer_id, count(*)::int8 AS n
            FROM read_models.match_gigs_v4 g
            CROSS JOIN LATERAL (SELECT DISTINCT s.freelancer_id FROM read_models.match_freelancer_skills_v4 s WHERE s.skill = ANY(g.skills)) q
            JOIN read_models.match_freelancers_v4 f ON f.freelancer_id = q.freelancer_id
            WHERE f.currency = g.currency AND g.budget_max_minor > 0
              AND 1 - greatest(g.budget_min_minor - f.hourly_rate_minor * coalesce(g.engagement_hours, \(hours)),
                               f.hourly_rate_minor * coalesce(g.engagement_hours, \(hours)) - g.budget_max_minor, 0)
                      / g.budget_max_minor::float8 > 0
            GROUP BY f.freelancer_id
            """
        ).rows {
            enumerated[try row.decode(UUID.self, at: 0)] = Int(try row.decode(Int64.self, at: 1))
        }
        #expect(enumerated.count > 50 && enumerated.values.reduce(0, +) > 1_000)
        #expect(counted == enumerated)
        // The grids put prices on the boundary: pairs just outside it (price exactly twice the
        // budget max, a fit of exactly 0) exist and are not counted.
        let boundary = try await pool.query(
            """
            SELECT count(*) FROM read_models.match_gigs_v4 g JOIN read_models.match_freelancers_v4 f ON f.currency = g.currency
            WHERE f.hourly_rate_minor * coalesce(g.engagement_hours, 40) = 2 * g.budget_max_minor
            """
        ).scalar(Int.self)
        #expect(boundary > 0)
    }

    static func market(_ label: String, favouring country: String?) async throws -> FairnessAudit.Report {
        let pool = try await TestDatabase.fresh(label, maxConnections: 6)
        let store = EventStore(pool: pool)
        var config = SimulationConfig(
            freelancers: 500, clients: 40, weeks: 4, seed: 21, gigsPerClientPerWeek: 4, workers: 4,
            endingInWeekOf: Date(timeIntervalSince1970: 1_790_000_000))
        config.favouredCountry = country
        let summary = try await MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests), config: config
        ).run()
        #expect(summary.unexpectedRejections == 0)
        let engine = ProjectionEngine(store: store, projectors: [MatchingProjector()], owner: label, batchSize: 1_000)
        try await engine.prepare()
        _ = try await eventually(timeout: .seconds(120)) { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await engine.status().allSatisfy { $0.eventsApplied >= Int64(summary.events) } ? true : nil
        }
        let report = try await FairnessAudit(pool: pool).run(weeks: 4, k: 10).data
        await pool.close()
        return report
    }

    /// Clients who prefer one country: the audit flags the countries it disfavours on awards; the
    /// same market without the bias has none flagged on awards.
    @Test func flagsThePlantedBiasAndNotTheFairMarket() async throws {
        let biased = try await Self.market("auditbiased", favouring: "IN")
        let fair = try await Self.market("auditfair", favouring: nil)
        #expect(biased.gigs > 400 && fair.gigs == biased.gigs)
        let countries = biased.cohorts.filter { $0.dimension == "country" }
        #expect(Set(countries.map(\.cohort)) == ["BR", "DE", "FR", "IN", "US"])
        let favoured = try #require(countries.first { $0.cohort == "IN" })
        #expect(favoured.awardDisparity == 1, "IN has the best award ratio")
        #expect((favoured.awardRatio ?? 0) > 1.5, "IN wins far more than its share of bids")
        let awardGaps = countries.filter { ($0.awardDisparity ?? 1) < 0.8 && ($0.awardZ ?? 0) >= biased.criticalZ }
        #expect(awardGaps.count >= 3, "\(countries.map { ($0.cohort, $0.awardDisparity, $0.awardZ) })")
        #expect(awardGaps.allSatisfy { $0.flagged })
        // Without the bias no country is flagged, and the would-be favourite wins about its share
        // of its bids. (Compared with the best country at z ≥ 1.96, one comparison's threshold,
        // this market's BR was flagged on awards at z 2.06: the best of five rates is a yardstick
        // biased upwards, and with over ten comparisons some z passes 1.96 by chance. Against
        // the other countries BR's z is 1.81; the threshold for all comparisons is about 2.7.)
        #expect(fair.comparisons >= 10 && fair.criticalZ > 2.5)
        let fairCountries = fair.cohorts.filter { $0.dimension == "country" }
        #expect(
            fairCountries.allSatisfy { !$0.flagged },
            "\(fairCountries.map { ($0.cohort, $0.exposureDisparity, $0.exposureZ, $0.awardDisparity, $0.awardZ) })")
        let unfavoured = try #require(fairCountries.first { $0.cohort == "IN" })
        #expect(abs((unfavoured.awardRatio ?? 0) - 1) < 0.3)
        // Every dimension is reported, with shares summing to 1.
        for dimension in ["tenure", "country", "rateBand"] {
            let cohorts = fair.cohorts.filter { $0.dimension == dimension }
            #expect(!cohorts.isEmpty)
            #expect(abs(cohorts.map(\.qualifiedShare).reduce(0, +) - 1) < 0.001)
            #expect(abs(cohorts.map(\.bidShare).reduce(0, +) - 1) < 0.001)
        }
    }

    /// The top-k searches on several connections: each imports the reading transaction's
    /// snapshot before any gig is ranked, so the places equal a one-connection run's, and a
    /// freelancer registered and projected after the snapshot was exported — who takes top-k
    /// places in every later audit — is seen by no search of this one.
    @Test func parallelRankingSharesOneSnapshot() async throws {
        let pool = try await TestDatabase.fresh("auditparallel", maxConnections: 6)
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        let config = SimulationConfig(
            freelancers: 300, clients: 20, weeks: 4, seed: 5, gigsPerClientPerWeek: 3, workers: 4,
            endingInWeekOf: Date(timeIntervalSince1970: 1_790_000_000))
        let summary = try await MarketSimulator(service: service, config: config).run()
        #expect(summary.unexpectedRejections == 0)
        let engine = ProjectionEngine(
            store: store, projectors: [MatchingProjector()], owner: "auditparallel", batchSize: 1_000)
        try await engine.prepare()
        func caughtUp(_ events: Int) async throws {
            _ = try await eventually(timeout: .seconds(120)) { () async throws -> Bool? in
                try await engine.catchUpAll()
                return try await engine.status().allSatisfy { $0.eventsApplied >= Int64(events) } ? true : nil
            }
        }
        try await caughtUp(summary.events)

        let (alone, _, one) = try await FairnessAudit(pool: pool, workers: 1).run(
            weeks: 4, k: 10, progress: nil, beforeRanking: nil)
        #expect(alone.report.gigs > 100 && one == [alone.report.gigs])
        #expect(alone.places.values.reduce(0, +) >= alone.report.gigs * 9)

        // A freelancer with every skill of the market at the top level and a middling rate.
        let skills = try await pool.query(
            "SELECT DISTINCT unnest(skills) FROM read_models.match_gigs_v4 ORDER BY 1"
        ).rows.map { try $0.decode(String.self, at: 0) }
        let rate = try await pool.query(
            """
            SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY hourly_rate_minor) FROM read_models.match_freelancers_v4 WHERE currency = 'EUR'
            """
        ).scalar(Int64.self)
        let star = UUID()
        let register = { () async throws -> Void in
            let id = star.uuidString.lowercased()
            try await service.execute(
                try CommandInput(fields: [
                    "command": "RegisterFreelancer", "actor": .string("freelancer:\(id)"),
                    "freelancerId": .string(id), "name": "Star",
                    "skills": .array(skills.map { ["skill": .string($0), "level": 3] }),
                    "hourlyRate": ["currency": "EUR", "minorUnits": .number(Double(rate))], "hoursPerWeek": 40,
                ]).command())
            try await caughtUp(summary.events + 1)
        }
        let heard = Mutex<[FairnessAudit.Progress]>([])
        var parallel = FairnessAudit(pool: pool, workers: 4)
        parallel.gigsPerTake = 2
        let (shared, _, perConnection) = try await parallel.run(
            weeks: 4, k: 10, progress: { progress in heard.withLock { $0.append(progress) } },
            beforeRanking: register)
        // Four connections ranked (the pool had them free), more than one of them gigs, each gig once.
        #expect(perConnection.count == 4 && perConnection.reduce(0, +) == alone.report.gigs)
        #expect(perConnection.filter { $0 > 0 }.count >= 2, "\(perConnection)")
        #expect(shared.places == alone.places && shared.places[star] == nil)
        #expect(shared.report == alone.report)
        let phases = heard.withLock { $0 }.compactMap { if case .phase(let name, _) = $0 { name } else { nil } }
        #expect(phases == ["window", "qualified", "ranking", "bids", "judging"])
        let ranked = heard.withLock { $0 }.compactMap { if case .ranked(let done, _, _) = $0 { done } else { nil } }
        #expect(ranked.last == alone.report.gigs && ranked == ranked.sorted())

        // Audits from now on see the freelancer, in the top k of many gigs.
        let (later, _, _) = try await parallel.run(weeks: 4, k: 10, progress: nil, beforeRanking: nil)
        #expect((later.places[star] ?? 0) > 10)
        #expect(later.places != alone.places)
        await pool.close()
    }
}
