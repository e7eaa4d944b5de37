import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Simulation
import TestSupport
import Testing

@testable import Projections

/// The indexed searches give exactly what scoring every candidate gives: `Reference` scores
/// every candidate with the one scoring definition (`Matching.GigContext.match`), counting
/// idf's document frequencies and population, and each freelancer's experience per skill, from
/// the rows at query time instead of reading the maintained counts, and without any index order
/// or bound.
@Suite("Matching searches equal scoring every candidate")
struct MatchingSearchTests {
    enum Reference {
        static func score(_ pool: ConnectionPool, gig: UUID, freelancer: UUID?, weights w: Matching.Weights)
            async throws -> [Matching.Match]
        {
            guard
                let g = try await pool.query(
                    """
                    SELECT currency, budget_min_minor, budget_max_minor, experience, engagement_hours, skills,
                           ARRAY(SELECT (SELECT count(*) FROM read_models.match_freelancer_skills_v4 fs WHERE fs.skill = s.skill)::int
                                 FROM unnest(skills) WITH ORDINALITY AS s(skill, n) ORDER BY s.n) AS df,
                           (SELECT count(*) FROM read_models.match_freelancers_v4)::int AS population
                    FROM read_models.match_gigs_v4 WHERE gig_id = \(gig)
                    """
                ).rows.first
            else { return [] }
            let skills = try g.decode([String].self, "skills")
            let population = try g.decode(Int.self, "population")
            let context = Matching.GigContext(
                terms: try Matching.GigTerms(id: gig, row: g), skills: skills,
                idf: try g.decode([Int].self, "df").map { Matching.idf(population: population, df: $0) })
            let rows = try await pool.query(
                """
                SELECT f.freelancer_id, f.hourly_rate_minor, f.currency, f.hours_per_week, f.active_contracts, f.ratings_sum,
                       f.ratings_n, f.completed, f.failed, f.contracts_started, f.min_budget_minor, f.min_budget_currency,
                       f.accepted_currencies, f.wanted_skills, f.max_contracts,
                       ARRAY(SELECT s.skill FROM read_models.match_freelancer_skills_v4 s WHERE s.freelancer_id = f.freelancer_id ORDER BY s.skill) AS skills,
                       ARRAY(SELECT s.level FROM read_models.match_freelancer_skills_v4 s WHERE s.freelancer_id = f.freelancer_id ORDER BY s.skill) AS levels,
                       coalesce(x.skills, '{}') AS x_skills, coalesce(x.completed, '{}') AS x_completed,
                       coalesce(x.ratings_sum, '{}') AS x_ratings_sum, coalesce(x.ratings_n, '{}') AS x_ratings_n
                FROM read_models.match_freelancers_v4 f
                -- Experience counted from the contracts and their gigs, not read from match_experience_v4.
                LEFT JOIN LATERAL (
                    SELECT array_agg(e.skill ORDER BY e.skill) AS skills, array_agg(e.completed ORDER BY e.skill) AS completed,
                           array_agg(e.ratings_sum ORDER BY e.skill) AS ratings_sum, array_agg(e.ratings_n ORDER BY e.skill) AS ratings_n
                    FROM (SELECT s.skill, count(*)::int AS completed, coalesce(sum(c.client_rating), 0)::int AS ratings_sum,
                                 count(c.client_rating)::int AS ratings_n
                          FROM read_models.match_contracts_v4 c JOIN read_models.match_gigs_v4 cg ON cg.gig_id = c.gig_id
                          CROSS JOIN LATERAL unnest(cg.skills) AS s(skill)
                          WHERE c.freelancer_id = f.freelancer_id AND c.outcome = 'completed' GROUP BY s.skill) e
                ) x ON true
                WHERE (\(freelancer)::uuid IS NULL OR f.freelancer_id = \(freelancer)::uuid)
                """
            ).rows
            return try rows.compactMap { row in
                let levels = Dictionary(
                    zip(try row.decode([String].self, "skills"), try row.decode([Int].self, "levels")),
                    uniquingKeysWith: { $1 })
                // Candidates have at least one of the gig's skills.
                guard skills.contains(where: { levels[$0] != nil }) else { return nil }
                return context.match(
                    try Matching.FreelancerFacts(row: row), levels: levels,
                    experience: try Matching.Experience.bySkill(row),
                    weights: w)
            }
        }
    }

    /// The same pairs in the same order, with the published (rounded) components.
    static func same(_ got: [Matching.Match], _ expected: [Matching.Match], _ label: String) {
        #expect(got.map(\.gigID) == expected.map(\.gigID), "\(label): gigs")
        #expect(got.map(\.freelancerID) == expected.map(\.freelancerID), "\(label): freelancers")
        #expect(got.map(\.viaNewcomerSlot) == expected.map(\.viaNewcomerSlot), "\(label): newcomer slot")
        for (a, b) in zip(got, expected.map { $0.published() }) {
            #expect(
                a.score == b.score && a.coverage == b.coverage && a.budgetFit == b.budgetFit
                    && a.availability == b.availability && a.reputation == b.reputation
                    && a.experienceFit == b.experienceFit && a.preferenceFit == b.preferenceFit,
                "\(label): components")
        }
    }

    /// With one row per list and round (`firstRead` 1) the search reads a few newcomers before it
    /// stops; the newcomer slot must still go to the best qualified newcomer of all, not to the
    /// best of those read (on this market, one gig's slot once went to a worse newcomer read first).
    @Test func candidatesAndFeedsOfASimulatedMarket() async throws {
        let pool = try await TestDatabase.fresh("matchsearch", maxConnections: 6)
        let store = EventStore(pool: pool)
        let summary = try await MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests),
            config: SimulationConfig(
                freelancers: 80, clients: 10, weeks: 3, seed: 5, gigsPerClientPerWeek: 1.5, workers: 4)
        ).run()
        // Open gigs for the feeds (the simulated market has closed all of its own by its end).
        let service = MarketplaceService(store: store, masterKey: .forTests)
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
                    "experience": .string(["any", "entry", "intermediate", "expert"][n % 4]),
                    "engagement": n % 3 == 0 ? "hourly" : "fixedPrice",
                    "hours": n % 3 == 0 ? .number(Double(10 + n)) : .null,
                ]).command())
        }
        _ = try await eventually(timeout: .seconds(90)) {
            try await store.readAll(after: .start, limit: 1_000_000).events.count >= summary.events + 41 ? true : nil
        }
        let engine = ProjectionEngine(store: store, projectors: [MatchingProjector()], owner: "search", batchSize: 700)
        try await engine.prepare()
        try await engine.catchUpAll()
        let gigs = try await pool.query("SELECT gig_id FROM read_models.match_gigs_v4 ORDER BY gig_id").rows.map {
            try $0.decode(UUID.self, at: 0)
        }
        let freelancers = try await pool.query(
            "SELECT freelancer_id FROM read_models.match_freelancers_v4 ORDER BY freelancer_id"
        ).rows.map { try $0.decode(UUID.self, at: 0) }
        #expect(gigs.count > 30)
        #expect(
            try await pool.query("SELECT count(*) FROM read_models.match_gigs_v4 WHERE status = 'open'").scalar(
                Int.self) >= 5)
        #expect(
            try await pool.query("SELECT count(*) FROM read_models.match_freelancers_v4 WHERE contracts_started > 0")
                .scalar(Int.self) > 10)
        // The new components vary across the market: experience of completed contracts, preferences set.
        #expect(try await pool.query("SELECT count(*) FROM read_models.match_experience_v4").scalar(Int.self) > 10)
        #expect(
            try await pool.query(
                "SELECT count(*) FROM read_models.match_freelancers_v4 WHERE max_contracts IS NOT NULL OR min_budget_minor IS NOT NULL"
            ).scalar(Int.self) > 5)

        // Every stored rank key and newcomer flag is the scoring definition's, for every
        // freelancer of the market (random facts: rates, hours, contracts, ratings).
        let keyed = try await pool.query(
            """
            SELECT f.freelancer_id, f.hourly_rate_minor, f.currency, f.hours_per_week, f.active_contracts, f.ratings_sum,
                   f.ratings_n, f.completed, f.failed, f.contracts_started, f.min_budget_minor, f.min_budget_currency,
                   f.accepted_currencies, f.wanted_skills, f.max_contracts, s.rank_key, s.newcomer
            FROM read_models.match_freelancers_v4 f JOIN read_models.match_freelancer_skills_v4 s USING (freelancer_id)
            """
        ).rows
        #expect(keyed.count > 80)
        for row in keyed {
            let facts = try Matching.FreelancerFacts(row: row)
            #expect(try row.decode(Double.self, "rank_key") == Matching.rankKey(facts, MatchingProjector.rankWeights))
            #expect(try row.decode(Bool.self, "newcomer") == (facts.started == 0))
        }

        // Every pair of a freelancer's skills is one pair row (first skill before the second in
        // byte order) with both levels and the skill rows' newcomer flag and rank key, and no
        // other pair row exists.
        let pairs = try await pool.query("SELECT count(*) FROM read_models.match_freelancer_skill_pairs_v4").scalar(
            Int.self)
        #expect(pairs > 20)
        let unmatched = try await pool.query(
            """
            WITH expected AS (
                SELECT a.freelancer_id, a.skill AS skill1, a.level AS level1, b.skill AS skill2, b.level AS level2, a.newcomer, a.rank_key
                FROM read_models.match_freelancer_skills_v4 a JOIN read_models.match_freelancer_skills_v4 b
                  ON b.freelancer_id = a.freelancer_id AND a.skill COLLATE "C" < b.skill COLLATE "C"
                WHERE (a.newcomer, a.rank_key) = (b.newcomer, b.rank_key)
            ), stored AS (
                SELECT freelancer_id, skill1, level1, skill2, level2, newcomer, rank_key FROM read_models.match_freelancer_skill_pairs_v4
            )
            SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT ALL SELECT * FROM stored) d)
                   + (SELECT count(*) FROM (SELECT * FROM stored EXCEPT ALL SELECT * FROM expected) d)
            """
        ).scalar(Int.self)
        #expect(unmatched == 0, "pair rows that differ from the skill rows")

        // Weights the rank key fits (pruned search, read one row per list first so every
        // stopping rule runs), and weights it does not fit (every list read).
        var other = Matching.Weights.v2
        other.version = 99
        other.availability = 0.3
        other.coverage = 0.3
        other.experience = 0.3
        for weights in [Matching.Weights.v2, other, Matching.Weights.v1] {
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
                        try await matching.candidates(forGig: gig, k: k).data,
                        Matching.rank(all, k: k, tieBreak: byID, weights: weights), "gig \(gig) k \(k)")
                }
            }
            for (n, freelancer) in freelancers.enumerated() {
                let open = try await pool.query(
                    """
                    SELECT g.gig_id FROM read_models.match_gigs_v4 g
                    WHERE g.status = 'open' AND g.skills && ARRAY(SELECT skill FROM read_models.match_freelancer_skills_v4 WHERE freelancer_id = \(freelancer))
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
                        try await matching.feed(forFreelancer: freelancer, k: k).data, Array(expected.prefix(k)),
                        "feed \(freelancer) k \(k)")
                }
                let gig = gigs[(n * 7) % gigs.count]
                if let explained = try await matching.explain(gig: gig, freelancer: freelancer)?.data,
                    let reference = try await Reference.score(pool, gig: gig, freelancer: freelancer, weights: weights)
                        .first
                {
                    Self.same([explained], [reference], "explain \(gig) \(freelancer)")
                }
            }
        }
    }
}
