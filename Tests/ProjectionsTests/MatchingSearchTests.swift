import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Simulation
import TestSupport
import Testing

@testable import Projections

/// The indexed searches give exactly what scoring every candidate gives: `Reference` is the
/// version-1 query (every candidate scored at query time, idf counted per query) over the
/// version-2 tables.
@Suite("Matching searches equal scoring every candidate")
struct MatchingSearchTests {
    enum Reference {
        static func score(_ pool: ConnectionPool, gig: UUID, freelancer: UUID?, weights w: Matching.Weights)
            async throws -> [Matching.Match]
        {
            let rows = try await pool.query(
                """
                WITH gig AS (SELECT * FROM read_models.match_gigs_v2 WHERE gig_id = \(gig)),
                population AS (SELECT count(*)::float8 AS n FROM read_models.match_freelancers_v2),
                need AS (
                    SELECT s.skill, ln((p.n + 1) / ((SELECT count(*) FROM read_models.match_freelancer_skills_v2 fs WHERE fs.skill = s.skill) + 1)) + 1 AS idf
                    FROM gig, unnest(gig.skills) AS s(skill), population p
                ),
                total AS (SELECT sum(idf) AS total FROM need),
                pool AS (
                    SELECT f.* FROM read_models.match_freelancers_v2 f
                    WHERE (\(freelancer)::uuid IS NULL OR f.freelancer_id = \(freelancer)::uuid)
                      AND EXISTS (SELECT 1 FROM read_models.match_freelancer_skills_v2 fs JOIN need USING (skill) WHERE fs.freelancer_id = f.freelancer_id)
                )
                SELECT f.freelancer_id,
                       coalesce((SELECT sum(need.idf * fs.level / 3.0) FROM read_models.match_freelancer_skills_v2 fs JOIN need USING (skill)
                                 WHERE fs.freelancer_id = f.freelancer_id), 0) / nullif(total.total, 0) AS coverage,
                       CASE WHEN f.currency <> gig.currency THEN 0
                            ELSE greatest(0, 1 - greatest(gig.budget_min_minor - f.hourly_rate_minor * \(w.typicalGigHours),
                                                           f.hourly_rate_minor * \(w.typicalGigHours) - gig.budget_max_minor, 0)
                                              / nullif(gig.budget_max_minor, 0)::float8) END AS budget_fit,
                       CASE WHEN f.hours_per_week <= 0 THEN 0
                            ELSE greatest(0, (f.hours_per_week - \(w.hoursPerActiveContract) * f.active_contracts) / f.hours_per_week::float8) END AS availability,
                       0.5 * (((\(w.ratingPriorWeight) * \(w.ratingPrior) + f.ratings_sum) / (\(w.ratingPriorWeight) + f.ratings_n) - 1) / 4)
                         + 0.5 * ((f.completed + \(w.completionAlpha)) / (f.completed + f.failed + \(w.completionAlpha) + \(w.completionBeta))) AS reputation,
                       f.contracts_started = 0 AS newcomer
                FROM pool f, gig, total
                """)
            return try rows.rows.map { row in
                let coverage = try row.decode(Double?.self, "coverage") ?? 0
                let budget = try row.decode(Double.self, "budget_fit")
                let availability = try row.decode(Double.self, "availability")
                let reputation = try row.decode(Double.self, "reputation")
                let score =
                    w.coverage * coverage + w.budget * budget + w.availability * availability + w.reputation
                    * reputation
                return Matching.Match(
                    gigID: gig, freelancerID: try row.decode(UUID.self, "freelancer_id"), score: score,
                    coverage: coverage, budgetFit: budget,
                    availability: availability, reputation: reputation, newcomer: try row.decode(Bool.self, "newcomer"),
                    viaNewcomerSlot: false,
                    matchedSkills: [], missingSkills: [], weightsVersion: w.version)
            }
        }
    }

    static func same(_ got: [Matching.Match], _ expected: [Matching.Match], _ label: String) {
        #expect(got.map(\.gigID) == expected.map(\.gigID), "\(label): gigs")
        #expect(got.map(\.freelancerID) == expected.map(\.freelancerID), "\(label): freelancers")
        #expect(got.map(\.viaNewcomerSlot) == expected.map(\.viaNewcomerSlot), "\(label): newcomer slot")
        for (a, b) in zip(got, expected) {
            #expect(
                abs(a.score - b.score) < 1e-12 && abs(a.coverage - b.coverage) < 1e-12 && a.budgetFit == b.budgetFit
                    && a.availability == b.availability && a.reputation == b.reputation, "\(label): components")
        }
    }

    @Test func candidatesAndFeedsOfASimulatedMarket() async throws {
        let pool = try await TestDatabase.fresh("matchsearch", maxConnections: 6)
        let store = EventStore(pool: pool)
        let summary = try await MarketSimulator(
            service: MarketplaceService(store: store),
            config: SimulationConfig(
                freelancers: 80, clients: 10, weeks: 3, seed: 5, gigsPerClientPerWeek: 1.5, workers: 4)
        ).run()
        // Open gigs for the feeds (the simulated market has closed all of its own by its end).
        let service = MarketplaceService(store: store)
        let client = UUID().uuidString.lowercased()
        try await service.execute(
            try CommandInput(fields: [
                "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client),
                "name": "C", "country": "DE",
            ]).command())
        let skills = try await pool.query(
            """
            SELECT DISTINCT c->>'skill' FROM ledger.events e, jsonb_array_elements(e.data->'skills') AS c
            WHERE e.event_type = 'FreelancerRegistered' ORDER BY 1
            """
        ).rows.map { try $0.decode(String.self, at: 0) }
        let closes = JSONValue.string(ISO8601DateFormatter().string(from: Date().addingTimeInterval(30 * 86_400)))
        for n in 0..<40 {
            let gigSkills = Set(
                [skills[n % skills.count], skills[(n * 7 / 3) % skills.count], skills[(n * n) % skills.count]].prefix(
                    1 + n % 3))
            let currency = JSONValue.string(n % 9 == 0 ? "USD" : "EUR")
            try await service.execute(
                try CommandInput(fields: [
                    "command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(client),
                    "gigId": .string(UUID().uuidString.lowercased()),
                    "title": "G", "skills": .array(gigSkills.sorted().map { .string($0) }),
                    "budgetMin": ["currency": currency, "minorUnits": .number(Double(50_000 + 10_000 * (n % 5)))],
                    "budgetMax": ["currency": currency, "minorUnits": .number(Double(120_000 + 40_000 * (n % 7)))],
                    "biddingClosesAt": closes,
                ]).command())
        }
        _ = try await eventually(timeout: .seconds(90)) {
            try await store.readAll(after: .start, limit: 1_000_000).events.count >= summary.events + 41 ? true : nil
        }
        let engine = ProjectionEngine(store: store, projectors: [MatchingProjector()], owner: "search", batchSize: 700)
        try await engine.prepare()
        try await engine.catchUpAll()
        let gigs = try await pool.query("SELECT gig_id FROM read_models.match_gigs_v2 ORDER BY gig_id").rows.map {
            try $0.decode(UUID.self, at: 0)
        }
        let freelancers = try await pool.query(
            "SELECT freelancer_id FROM read_models.match_freelancers_v2 ORDER BY freelancer_id"
        ).rows.map { try $0.decode(UUID.self, at: 0) }
        #expect(gigs.count > 30)
        #expect(
            try await pool.query("SELECT count(*) FROM read_models.match_gigs_v2 WHERE status = 'open'").scalar(
                Int.self) >= 5)
        #expect(
            try await pool.query("SELECT count(*) FROM read_models.match_freelancers_v2 WHERE contracts_started > 0")
                .scalar(Int.self) > 10)

        // Weights the rank key fits (pruned search, read one row per list first so every
        // stopping rule runs), and weights it does not fit (every list read).
        var other = Matching.Weights.v1
        other.version = 99
        other.availability = 0.3
        other.coverage = 0.3
        for weights in [Matching.Weights.v1, other] {
            var matching = Matching(pool: pool, weights: weights)
            matching.tuning.firstRead = 1
            matching.tuning.groupsPerRound = 1
            let byID: (Matching.Match, Matching.Match) -> Bool = {
                $0.freelancerID.uuidString < $1.freelancerID.uuidString
            }
            var fedFreelancers = 0
            defer { #expect(fedFreelancers > 10) }
            for gig in gigs {
                let all = try await Reference.score(pool, gig: gig, freelancer: nil, weights: weights)
                for k in [1, 2, 3, 10] {
                    Self.same(
                        try await matching.candidates(forGig: gig, k: k),
                        Matching.rank(all, k: k, tieBreak: byID, weights: weights), "gig \(gig) k \(k)")
                }
            }
            for (n, freelancer) in freelancers.enumerated() {
                let open = try await pool.query(
                    """
                    SELECT g.gig_id FROM read_models.match_gigs_v2 g
                    WHERE g.status = 'open' AND g.skills && ARRAY(SELECT skill FROM read_models.match_freelancer_skills_v2 WHERE freelancer_id = \(freelancer))
                    """
                ).rows.map { try $0.decode(UUID.self, at: 0) }
                if !open.isEmpty { fedFreelancers += 1 }
                var all: [Matching.Match] = []
                for gig in open {
                    all += try await Reference.score(pool, gig: gig, freelancer: freelancer, weights: weights)
                }
                let expected = all.sorted {
                    $0.score != $1.score ? $0.score > $1.score : $0.gigID.uuidString < $1.gigID.uuidString
                }
                for k in [1, 3, 10] {
                    Self.same(
                        try await matching.feed(forFreelancer: freelancer, k: k), Array(expected.prefix(k)),
                        "feed \(freelancer) k \(k)")
                }
                let gig = gigs[(n * 7) % gigs.count]
                if let explained = try await matching.explain(gig: gig, freelancer: freelancer),
                    let reference = try await Reference.score(pool, gig: gig, freelancer: freelancer, weights: weights)
                        .first
                {
                    Self.same([explained], [reference], "explain \(gig) \(freelancer)")
                }
            }
        }
    }
}
