import Foundation
import Marketplace
import PQ

extension MatchingProjector: LogFolding {
    /// `GigPosted` version 1 reads as experience "any" and a fixed price, as its upcaster says.
    public var foldedOlderVersions: [String: Set<Int>] { [GigEvent.GigPosted.eventType: [1]] }

    /// Seconds per million events it reads, measured on the 1.4M-event benchmark log (see
    /// BENCHMARKS.md): only the order of the folds depends on it.
    public var foldCost: Double { 4.5 }

    /// The whole log at once (``LogFolding``), table by table in the incremental projector's
    /// order: freelancers (first registration, latest rate, hours and preferences), gigs (first
    /// posting, closed by an award or a closing), open gigs per skill set, contracts (first start,
    /// first end, the client's latest rating), bids, the reputation and experience inputs
    /// recomputed from the contracts, then `newcomer` and `rank_key` computed in Swift by the
    /// scoring code itself (as the incremental projector does), page by page, and each
    /// freelancer's latest claimed skills and their pairs written with them.
    public func fold(on connection: Connection) async throws {
        typealias F = FreelancerEvent
        typealias G = GigEvent
        typealias C = ContractEvent
        try await connection.execute(
            """
            INSERT INTO match_freelancers_v4 (freelancer_id, hourly_rate_minor, currency, hours_per_week, registered_at, country,
                                              min_budget_minor, min_budget_currency, accepted_currencies, wanted_skills, max_contracts)
            WITH registered AS (
                SELECT DISTINCT ON (freelancer_id) freelancer_id, data, occurred_at
                FROM pg_temp.fold_log WHERE event_type = \(F.FreelancerRegistered.eventType)
                ORDER BY freelancer_id, global_position
            ), rate AS (
                SELECT DISTINCT ON (freelancer_id) freelancer_id, data->'hourlyRate' AS rate
                FROM pg_temp.fold_log WHERE event_type = \(F.RateChanged.eventType)
                ORDER BY freelancer_id, global_position DESC
            ), hours AS (
                SELECT DISTINCT ON (freelancer_id) freelancer_id, (data->>'hoursPerWeek')::int4 AS hours
                FROM pg_temp.fold_log WHERE event_type = \(F.AvailabilityChanged.eventType)
                ORDER BY freelancer_id, global_position DESC
            ), prefs AS (
                SELECT DISTINCT ON (freelancer_id) freelancer_id, data
                FROM pg_temp.fold_log WHERE event_type = \(F.PreferencesSet.eventType)
                ORDER BY freelancer_id, global_position DESC
            )
            SELECT r.freelancer_id, (coalesce(rt.rate, r.data->'hourlyRate')->>'minorUnits')::int8,
                   coalesce(rt.rate, r.data->'hourlyRate')->>'currency', coalesce(h.hours, (r.data->>'hoursPerWeek')::int4),
                   r.occurred_at, r.data->>'country',
                   (p.data->'minimumBudget'->>'minorUnits')::int8, p.data->'minimumBudget'->>'currency',
                   ARRAY(SELECT jsonb_array_elements_text(p.data->'currencies')),
                   ARRAY(SELECT jsonb_array_elements_text(p.data->'wantedSkills')), (p.data->>'maxConcurrentContracts')::int4
            FROM registered r
            LEFT JOIN rate rt USING (freelancer_id)
            LEFT JOIN hours h USING (freelancer_id)
            LEFT JOIN prefs p USING (freelancer_id)
            """)
        try await connection.execute(
            """
            INSERT INTO match_population_v4 (singleton, freelancers)
            SELECT true, count(*)::int FROM match_freelancers_v4 HAVING count(*) > 0
            """)
        try await connection.execute(
            """
            INSERT INTO match_gigs_v4 (gig_id, client_id, currency, budget_min_minor, budget_max_minor, skills, skill_set, status, posted_at,
                                       experience, engagement_hours)
            WITH posted AS (
                SELECT DISTINCT ON (gig_id) gig_id, data, schema_version, occurred_at,
                       ARRAY(SELECT jsonb_array_elements_text(data->'skills')) AS skills
                FROM pg_temp.fold_log WHERE event_type = \(G.GigPosted.eventType)
                ORDER BY gig_id, global_position
            ), ended AS (
                SELECT DISTINCT gig_id
                FROM pg_temp.fold_log WHERE event_type IN (\(G.BidAccepted.eventType), \(G.GigClosed.eventType))
            )
            SELECT p.gig_id, (p.data->>'clientId')::uuid, p.data->'budgetMax'->>'currency', (p.data->'budgetMin'->>'minorUnits')::int8,
                   (p.data->'budgetMax'->>'minorUnits')::int8, p.skills, p.skills::text,
                   CASE WHEN e.gig_id IS NULL THEN 'open' ELSE 'closed' END, p.occurred_at,
                   CASE WHEN p.schema_version = 1 THEN \(ExperienceLevel.any.rawValue) ELSE p.data->>'experience' END,
                   CASE WHEN p.schema_version = 1 THEN NULL ELSE (p.data->'engagement'->>'hours')::int4 END
            FROM posted p LEFT JOIN ended e USING (gig_id)
            """)
        try await connection.execute(
            """
            INSERT INTO match_open_skill_sets_v4 (skill_set, skills, open_gigs)
            SELECT skill_set, min(skills), count(*)::int FROM match_gigs_v4 WHERE status = 'open' GROUP BY skill_set
            """)
        try await connection.execute(
            """
            INSERT INTO match_contracts_v4 (contract_id, freelancer_id, gig_id, outcome, client_rating)
            WITH started AS (
                SELECT DISTINCT ON (contract_id) contract_id, freelancer_id,
                       gig_id
                FROM pg_temp.fold_log WHERE event_type = \(C.ContractStarted.eventType)
                ORDER BY contract_id, global_position
            ), ended AS (
                SELECT DISTINCT ON (contract_id) contract_id,
                       CASE event_type WHEN \(C.ContractCompleted.eventType) THEN 'completed' ELSE 'failed' END AS outcome
                FROM pg_temp.fold_log WHERE event_type IN (\(C.ContractCompleted.eventType), \(C.ContractCancelled.eventType))
                ORDER BY contract_id, global_position
            ), rated AS (
                SELECT DISTINCT ON (contract_id) contract_id, (data->>'rating')::int4 AS rating
                FROM pg_temp.fold_log
                WHERE event_type = \(C.ReviewSubmitted.eventType) AND data->>'authorSide' = \(ContractSide.client.rawValue)
                ORDER BY contract_id, global_position DESC
            )
            SELECT s.contract_id, s.freelancer_id, s.gig_id, coalesce(e.outcome, 'active'), r.rating
            FROM started s LEFT JOIN ended e USING (contract_id) LEFT JOIN rated r USING (contract_id)
            """)
        try await connection.execute(
            """
            INSERT INTO match_bids_v4 (gig_id, bid_id, freelancer_id, placed_at)
            -- Placed once (the domain's rule; else the primary key fails and batches build it).
            SELECT gig_id, bid_id, freelancer_id, occurred_at
            FROM pg_temp.fold_log WHERE event_type = \(G.BidPlaced.eventType)
            """)
        try await Self.recomputeReputation(of: nil, on: connection)
        try await connection.execute(
            """
            INSERT INTO match_experience_v4 (freelancer_id, skill, completed, ratings_sum, ratings_n)
            SELECT c.freelancer_id, s.skill, count(*)::int, coalesce(sum(c.client_rating), 0)::int, count(c.client_rating)::int
            FROM match_contracts_v4 c JOIN match_gigs_v4 g ON g.gig_id = c.gig_id CROSS JOIN LATERAL unnest(g.skills) AS s(skill)
            WHERE c.outcome = 'completed'
            GROUP BY c.freelancer_id, s.skill
            """)
        try await foldRankKeys(on: connection)
        // Each freelancer's latest claim; within it the last level given for a skill.
        try await connection.execute(
            """
            CREATE TEMP TABLE fold_skills ON COMMIT DROP AS
            WITH latest AS (
                SELECT DISTINCT ON (freelancer_id) freelancer_id, data
                FROM pg_temp.fold_log WHERE event_type IN (\(F.FreelancerRegistered.eventType), \(F.SkillsUpdated.eventType))
                ORDER BY freelancer_id, global_position DESC
            )
            SELECT DISTINCT ON (l.freelancer_id, c.claim->>'skill') l.freelancer_id, c.claim->>'skill' AS skill,
                   (c.claim->>'level')::int4 AS level, coalesce(k.newcomer, true) AS newcomer, coalesce(k.rank_key, 0) AS rank_key
            FROM latest l
            CROSS JOIN LATERAL jsonb_array_elements(l.data->'skills') WITH ORDINALITY AS c(claim, n)
            LEFT JOIN pg_temp.fold_rank k ON k.freelancer_id = l.freelancer_id
            ORDER BY l.freelancer_id, c.claim->>'skill', c.n DESC
            """)
        try await connection.execute(
            """
            INSERT INTO match_freelancer_skills_v4 (freelancer_id, skill, level, newcomer, rank_key)
            SELECT freelancer_id, skill, level, newcomer, rank_key FROM pg_temp.fold_skills
            """)
        try await connection.execute(
            """
            INSERT INTO match_freelancer_skill_pairs_v4 (freelancer_id, skill1, level1, skill2, level2, newcomer, rank_key)
            SELECT a.freelancer_id, a.skill, a.level, b.skill, b.level, a.newcomer, a.rank_key
            FROM pg_temp.fold_skills a JOIN pg_temp.fold_skills b
              ON b.freelancer_id = a.freelancer_id AND a.skill COLLATE "C" < b.skill COLLATE "C"
            """)
        try await connection.execute(
            """
            INSERT INTO match_skill_df_v4 (skill, freelancers)
            SELECT skill, count(*)::int FROM pg_temp.fold_skills GROUP BY skill
            """)
    }

    /// `newcomer` and `rank_key` of every freelancer, computed by ``Matching/rankKey(_:_:)``
    /// from the folded facts, into `pg_temp.fold_rank`, a page of freelancers at a time.
    private func foldRankKeys(on connection: Connection) async throws {
        try await connection.execute(
            """
            CREATE TEMP TABLE fold_rank (freelancer_id uuid PRIMARY KEY, newcomer boolean NOT NULL, rank_key float8 NOT NULL)
            ON COMMIT DROP
            """)
        var after: UUID?
        while true {
            let from: SQL = after.map { "WHERE freelancer_id > \($0)" } ?? ""
            let facts = try await Self.rankFacts(from, limit: Self.foldRankPage, on: connection)
            guard let last = facts.last else { return }
            let (ids, newcomers, keys) = Self.ranks(facts)
            try await connection.execute(
                """
                INSERT INTO pg_temp.fold_rank (freelancer_id, newcomer, rank_key)
                SELECT * FROM unnest(\(ids)::uuid[], \(newcomers)::bool[], \(keys)::float8[])
                """)
            after = last.id
        }
    }

    /// Freelancers per page of ``foldRankKeys(on:)``.
    static let foldRankPage = 20_000
}
