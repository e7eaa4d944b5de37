import Marketplace
import PQ

extension CompetitionBySkillProjector: LogFolding {
    /// Its events have one version.
    public var foldedOlderVersions: [String: Set<Int>] { [:] }

    /// Seconds per million events it reads, measured on the 1.4M-event benchmark log (see
    /// BENCHMARKS.md): only the order of the folds depends on it.
    public var foldCost: Double { 25 }

    /// The whole log at once (``LogFolding``). Each freelancer's claims in log order, each as the
    /// set of its skills: a claim equal to the one before it changes nothing (the incremental
    /// projector skips it); otherwise each skill it adds starts an interval at its time, and the
    /// next claim that drops the skill ends it.
    public func fold(on connection: Connection) async throws {
        try await connection.execute(
            """
            INSERT INTO competition_freelancer_skills_v1 (freelancer_id, skill, since, until)
            WITH claims AS (
                SELECT freelancer_id, occurred_at AS at, global_position,
                       ARRAY(SELECT DISTINCT s->>'skill' FROM jsonb_array_elements(data->'skills') AS s ORDER BY 1) AS skills
                FROM pg_temp.fold_log
                WHERE event_type IN (\(FreelancerEvent.FreelancerRegistered.eventType), \(FreelancerEvent.SkillsUpdated.eventType))
            ), changes AS (
                SELECT c.*, coalesce(lag(c.skills) OVER (PARTITION BY c.freelancer_id ORDER BY c.global_position), '{}') AS before
                FROM claims c
            ), edges AS (
                SELECT freelancer_id, s.skill, at, global_position, true AS starts
                FROM changes, unnest(skills) AS s(skill) WHERE NOT (s.skill = ANY(before))
                UNION ALL
                SELECT freelancer_id, s.skill, at, global_position, false
                FROM changes, unnest(before) AS s(skill) WHERE NOT (s.skill = ANY(skills))
            ), intervals AS (
                SELECT freelancer_id, skill, at, starts, global_position,
                       lead(at) OVER (PARTITION BY freelancer_id, skill ORDER BY global_position) AS next_at
                FROM edges
            )
            -- Two intervals of one skill starting at one instant: the first wins, as the
            -- incremental projector's ON CONFLICT DO NOTHING has it.
            SELECT DISTINCT ON (freelancer_id, skill, at) freelancer_id, skill, at, next_at
            FROM intervals WHERE starts ORDER BY freelancer_id, skill, at, global_position
            """)
    }
}
