import EventStore
import Foundation
import Marketplace
import PQ

/// Competition per skill and ISO week (sql/READ_MODELS.md): gigs posted, bids, bids per gig, gigs with no
/// bids, contracts started, fill rate, supply, demand ÷ supply, win rate.
///
/// This projector keeps who offers which skill since when
/// (`read_models.competition_freelancer_skills_v1`); the per-week figures are the view
/// `read_models.competition_skill_weeks_v1` over it and `competition_gigs_v1`:
/// - a gig counts once for each of its skills, in the ISO week it was posted (UTC); its bids
///   and its award count in that same week (a cohort view);
/// - supply: freelancers offering the skill at the end of that week;
/// - fill rate = contracts started ÷ gigs posted; win rate = contracts started ÷ bids;
///   demand ÷ supply = gigs posted ÷ supply (NULL when no supply).
public struct CompetitionBySkillProjector: MarketplaceProjector {
    /// Its name in `ledger.projections`, the status and the read checkpoints.
    public let name = "competition_skills"
    /// Read-model version 1: the `_v1` of its tables.
    public let version = 1
    /// The tables it writes (in `read_models`).
    public let tables = ["competition_freelancer_skills_v1"]
    /// The views ``prepare(on:)`` creates over its tables.
    public let views = ["competition_skill_weeks_v1"]
    /// The event types it reads (the domain's own constants); it ignores every other type.
    public let eventTypes: Set<String> = [
        FreelancerEvent.FreelancerRegistered.eventType, FreelancerEvent.SkillsUpdated.eventType,
    ]
    /// Where its events are decoded (``EventRegistry/marketplace`` unless a test gives another).
    public let registry: EventRegistry
    /// A projector decoding its events through `registry`.
    public init(registry: EventRegistry = .marketplace) { self.registry = registry }

    /// Creates `competition_freelancer_skills_v1` if missing, and (re)creates the view
    /// `competition_skill_weeks_v1`; prepares ``CompetitionByGigProjector``'s tables first, as the
    /// view reads them.
    public func prepare(on connection: Connection) async throws {
        try await CompetitionByGigProjector().prepare(on: connection)
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS competition_freelancer_skills_v1 (
                freelancer_id uuid        NOT NULL,
                skill         text        NOT NULL,
                since         timestamptz NOT NULL,
                until         timestamptz,
                CONSTRAINT competition_freelancer_skills_v1_pkey PRIMARY KEY (freelancer_id, skill, since)
            )
            """)
        try await connection.execute(
            """
            CREATE OR REPLACE VIEW competition_skill_weeks_v1 AS
            WITH gig_skills AS (
                SELECT s.skill, date_trunc('week', g.posted_at AT TIME ZONE 'UTC') AS week_start,
                       g.bids_total, (g.status = 'awarded')::int AS awarded
                FROM competition_gigs_v1 g, unnest(g.skills) AS s(skill)
            ), weeks AS (
                SELECT skill, week_start, count(*)::int AS gigs_posted, sum(bids_total)::int AS bids,
                       count(*) FILTER (WHERE bids_total = 0)::int AS gigs_with_no_bids, sum(awarded)::int AS contracts_started
                FROM gig_skills GROUP BY skill, week_start
            )
            SELECT w.skill,
                   to_char(w.week_start, 'IYYY-"W"IW') AS iso_week,
                   (w.week_start AT TIME ZONE 'UTC') AS week_start,
                   w.gigs_posted, w.bids,
                   round(w.bids::numeric / w.gigs_posted, 2) AS bids_per_gig,
                   w.gigs_with_no_bids, w.contracts_started,
                   round(w.contracts_started::numeric / w.gigs_posted, 4) AS fill_rate,
                   supply.n AS supply,
                   CASE WHEN supply.n > 0 THEN round(w.gigs_posted::numeric / supply.n, 4) END AS demand_to_supply,
                   CASE WHEN w.bids > 0 THEN round(w.contracts_started::numeric / w.bids, 4) END AS win_rate
            FROM weeks w
            CROSS JOIN LATERAL (
                SELECT count(DISTINCT f.freelancer_id)::int AS n
                FROM competition_freelancer_skills_v1 f
                WHERE f.skill = w.skill
                  AND f.since < (w.week_start + interval '7 days') AT TIME ZONE 'UTC'
                  AND (f.until IS NULL OR f.until >= (w.week_start + interval '7 days') AT TIME ZONE 'UTC')
            ) supply
            """)
    }

    /// Applies one event, as a batch of one (``apply(batch:on:)``).
    public func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        try await apply(batch: [event], on: connection)
    }

    /// Set-based: the batch's skill claims are applied in rounds — round r holds each
    /// freelancer's r-th claim of the batch, so one statement per round keeps every freelancer's
    /// claims in order (a batch rarely holds more than one claim per freelancer).
    ///
    /// A claim at time t whose skill set already equals what the table says was offered at t is
    /// skipped: forward, that is exactly a claim that changes nothing; replayed after it was
    /// applied, it is the claim itself, so re-applying events changes nothing. (Two claims of one
    /// freelancer at the same instant are the exception a replay may not undo; the log's business
    /// times make that unusual.)
    public func apply(batch events: [RecordedEvent], on connection: Connection) async throws {
        var rounds: [[(freelancer: UUID, at: Date, skills: [String])]] = []
        var claimsSoFar: [UUID: Int] = [:]
        for event in events where eventTypes.contains(event.type) {
            let freelancer: FreelancerID
            let skills: [SkillProficiency]
            switch try event.decoded(with: registry) {
            case .freelancer(.freelancerRegistered(let p)): (freelancer, skills) = (p.freelancerID, p.skills)
            case .freelancer(.skillsUpdated(let p)): (freelancer, skills) = (p.freelancerID, p.skills)
            default: continue
            }
            let round = claimsSoFar[freelancer.uuid, default: 0]
            claimsSoFar[freelancer.uuid] = round + 1
            if round == rounds.count { rounds.append([]) }
            rounds[round].append((freelancer.uuid, event.occurredAt, Array(Set(skills.map(\.skill.slug))).sorted()))
        }
        for round in rounds {
            let skillRows = round.enumerated().flatMap { index, claim in claim.skills.map { (Int32(index), $0) } }
            try await connection.execute(
                """
                WITH c AS (
                    SELECT u.freelancer_id, u.at, (u.n1 - 1)::int4 AS n
                    FROM unnest(\(round.map(\.freelancer))::uuid[], \(round.map(\.at))::timestamptz[]) WITH ORDINALITY AS u(freelancer_id, at, n1)
                ), s AS (
                    SELECT * FROM unnest(\(skillRows.map(\.0))::int4[], \(skillRows.map(\.1))::text[]) AS s(n, skill)
                ), claim AS (
                    SELECT c.n, c.freelancer_id, c.at, coalesce(a.skills, '{}') AS skills
                    FROM c LEFT JOIN (SELECT s.n, array_agg(s.skill ORDER BY s.skill) AS skills FROM s GROUP BY s.n) a ON a.n = c.n
                ), fresh AS (
                    SELECT claim.* FROM claim
                    WHERE claim.skills IS DISTINCT FROM ARRAY(
                        SELECT f.skill FROM competition_freelancer_skills_v1 f
                        WHERE f.freelancer_id = claim.freelancer_id AND f.since <= claim.at AND (f.until IS NULL OR f.until > claim.at)
                        ORDER BY f.skill)
                ), ended AS (
                    -- Skills no longer offered end now...
                    UPDATE competition_freelancer_skills_v1 f SET until = fresh.at FROM fresh
                    WHERE f.freelancer_id = fresh.freelancer_id AND f.until IS NULL AND NOT (f.skill = ANY(fresh.skills))
                    RETURNING f.freelancer_id
                )
                -- ...newly offered ones start now.
                INSERT INTO competition_freelancer_skills_v1 (freelancer_id, skill, since)
                SELECT fresh.freelancer_id, s.skill, fresh.at FROM fresh, unnest(fresh.skills) AS s(skill)
                WHERE NOT EXISTS (SELECT 1 FROM competition_freelancer_skills_v1 f
                                  WHERE f.freelancer_id = fresh.freelancer_id AND f.skill = s.skill AND f.until IS NULL)
                ON CONFLICT DO NOTHING
                """)
        }
    }
}
