import EventStore
import Foundation
import Marketplace
import PQ

/// The facts matching needs, kept from the log (version 4 tables in `read_models`), shaped so a
/// query scores a few hundred rows instead of every candidate:
///
/// - `match_freelancers_v4`: rate, hours per week, the reputation inputs (ratings, contracts
///   started, completed, failed, active), each recomputed from the freelancer's contracts, and
///   the freelancer's preferences (latest `PreferencesSet`);
/// - `match_experience_v4`: per freelancer and skill, the completed contracts whose gig asked for
///   the skill and the client ratings they got (experience fit's inputs), recomputed from
///   `match_contracts_v4` like the reputation inputs;
/// - `match_freelancer_skills_v4`: skill and level, plus `newcomer` and `rank_key` =
///   ``Matching/rankKey(_:_:)`` under ``rankWeights``, −(availability × 0.1 + reputation × 0.15)
///   (the part of the score that depends on the freelancer alone), computed by the scoring code
///   itself and indexed per (skill, level) so candidates come in order of an upper bound of
///   their score;
/// - `match_freelancer_skill_pairs_v4`: the same `newcomer` and `rank_key` per freelancer and
///   pair of its skills (the first before the second in byte order) with both levels, indexed per
///   (skill, level, skill, level), so the freelancers with given levels on two of a gig's skills
///   are one index range read in bound order (version 3 filtered one skill's list row by row);
/// - `match_skill_df_v4` and `match_population_v4`: per-skill document frequencies and the
///   number of registered freelancers, so idf needs no count at query time;
/// - `match_gigs_v4` (skills, budget, experience wanted, hourly hours, status, and `skill_set`,
///   the skills as one key) and
///   `match_open_skill_sets_v4` (open gigs per skill set), so a feed scores one group of gigs at a
///   time — every gig of a group has the same coverage for a given freelancer;
/// - `match_contracts_v4`: each contract's freelancer, gig, outcome and the client's rating (the
///   keyed facts the reputation and experience columns are recomputed from).
///
/// Version 4 added the skill pairs (version 3's tables are otherwise the same; the scores are
/// unchanged). It is built beside version 3's tables, which it leaves alone (drop them once
/// version 4 has caught up). Version 3 had added the preferences, the gigs' experience and
/// engagement, and experience per skill.
///
/// Scoring itself is ``Matching``. Every write is keyed and counts move by exactly what a
/// statement inserted or deleted, so re-applying events already applied changes nothing.
public struct MatchingProjector: MarketplaceProjector {
    /// Its name in `ledger.projections`, the status and the read checkpoints.
    public let name = "matching"
    /// Read-model version 4: the `_v4` of its tables.
    public let version = 4
    /// The tables it writes (in `read_models`).
    public let tables = [
        "match_freelancers_v4", "match_freelancer_skills_v4", "match_freelancer_skill_pairs_v4", "match_skill_df_v4",
        "match_population_v4",
        "match_gigs_v4", "match_open_skill_sets_v4", "match_contracts_v4", "match_experience_v4", "match_bids_v4",
    ]
    /// The weights `rank_key` is computed with. ``Matching`` uses the index bound only when its
    /// weights agree with these on availability and reputation; otherwise it scans every candidate.
    public static let rankWeights = Matching.Weights.v2
    /// Where its events are decoded (``EventRegistry/marketplace`` unless a test gives another).
    public let registry: EventRegistry
    /// A projector decoding its events through `registry`.
    public init(registry: EventRegistry = .marketplace) { self.registry = registry }

    /// Creates its tables and their indexes if missing (idempotent).
    public func prepare(on connection: Connection) async throws {
        try await connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS match_freelancers_v4 (
                freelancer_id     uuid        PRIMARY KEY,
                hourly_rate_minor bigint      NOT NULL,
                currency          text        NOT NULL,
                hours_per_week    integer     NOT NULL,
                registered_at     timestamptz NOT NULL,
                ratings_sum       integer     NOT NULL DEFAULT 0,
                ratings_n         integer     NOT NULL DEFAULT 0,
                contracts_started integer     NOT NULL DEFAULT 0,
                completed         integer     NOT NULL DEFAULT 0,
                failed            integer     NOT NULL DEFAULT 0,
                active_contracts  integer     NOT NULL DEFAULT 0,
                min_budget_minor    bigint,
                min_budget_currency text,
                accepted_currencies text[]  NOT NULL DEFAULT '{}',
                wanted_skills       text[]  NOT NULL DEFAULT '{}',
                max_contracts       integer,
                country             text
            );
            CREATE TABLE IF NOT EXISTS match_freelancer_skills_v4 (
                freelancer_id uuid             NOT NULL,
                skill         text             NOT NULL,
                level         integer          NOT NULL,
                newcomer      boolean          NOT NULL,
                rank_key      double precision NOT NULL,
                CONSTRAINT match_freelancer_skills_v4_pkey PRIMARY KEY (freelancer_id, skill)
            );
            CREATE INDEX IF NOT EXISTS match_freelancer_skills_v4_rank ON match_freelancer_skills_v4 (skill, level, rank_key, freelancer_id);
            CREATE INDEX IF NOT EXISTS match_freelancer_skills_v4_newcomers ON match_freelancer_skills_v4 (skill, level, rank_key, freelancer_id) WHERE newcomer;
            CREATE TABLE IF NOT EXISTS match_freelancer_skill_pairs_v4 (
                freelancer_id uuid             NOT NULL,
                skill1        text             NOT NULL,
                level1        integer          NOT NULL,
                skill2        text             NOT NULL,
                level2        integer          NOT NULL,
                newcomer      boolean          NOT NULL,
                rank_key      double precision NOT NULL,
                CONSTRAINT match_freelancer_skill_pairs_v4_pkey PRIMARY KEY (freelancer_id, skill1, skill2)
            );
            CREATE INDEX IF NOT EXISTS match_freelancer_skill_pairs_v4_rank ON match_freelancer_skill_pairs_v4 (skill1, level1, skill2, level2, rank_key, freelancer_id);
            CREATE INDEX IF NOT EXISTS match_freelancer_skill_pairs_v4_newcomers ON match_freelancer_skill_pairs_v4 (skill1, level1, skill2, level2, rank_key, freelancer_id) WHERE newcomer;
            CREATE TABLE IF NOT EXISTS match_skill_df_v4 (
                skill       text    PRIMARY KEY,
                freelancers integer NOT NULL
            );
            CREATE TABLE IF NOT EXISTS match_population_v4 (
                singleton   boolean PRIMARY KEY DEFAULT true CONSTRAINT match_population_v4_one_row CHECK (singleton),
                freelancers integer NOT NULL
            );
            CREATE TABLE IF NOT EXISTS match_gigs_v4 (
                gig_id           uuid        PRIMARY KEY,
                client_id        uuid        NOT NULL,
                currency         text        NOT NULL,
                budget_min_minor bigint      NOT NULL,
                budget_max_minor bigint      NOT NULL,
                skills           text[]      NOT NULL,
                skill_set        text        NOT NULL,
                status           text        NOT NULL,
                posted_at        timestamptz NOT NULL,
                experience       text        NOT NULL,
                engagement_hours integer
            );
            -- INCLUDE: what a feed reads of a group's gigs, read from the index alone.
            CREATE INDEX IF NOT EXISTS match_gigs_v4_open_by_skill_set ON match_gigs_v4 (skill_set, gig_id)
                INCLUDE (currency, budget_min_minor, budget_max_minor, experience, engagement_hours) WHERE status = 'open';
            CREATE TABLE IF NOT EXISTS match_open_skill_sets_v4 (
                skill_set text    PRIMARY KEY,
                skills    text[]  NOT NULL,
                open_gigs integer NOT NULL
            );
            CREATE TABLE IF NOT EXISTS match_contracts_v4 (
                contract_id   uuid    PRIMARY KEY,
                freelancer_id uuid    NOT NULL,
                gig_id        uuid    NOT NULL,
                outcome       text    NOT NULL CONSTRAINT match_contracts_v4_outcome CHECK (outcome IN ('active', 'completed', 'failed')),
                client_rating integer
            );
            CREATE INDEX IF NOT EXISTS match_contracts_v4_freelancer ON match_contracts_v4 (freelancer_id);
            CREATE TABLE IF NOT EXISTS match_experience_v4 (
                freelancer_id uuid    NOT NULL,
                skill         text    NOT NULL,
                completed     integer NOT NULL,
                ratings_sum   integer NOT NULL,
                ratings_n     integer NOT NULL,
                CONSTRAINT match_experience_v4_pkey PRIMARY KEY (freelancer_id, skill)
            );
            CREATE TABLE IF NOT EXISTS match_bids_v4 (
                bid_id        uuid        NOT NULL,
                gig_id        uuid        NOT NULL,
                freelancer_id uuid        NOT NULL,
                placed_at     timestamptz NOT NULL,
                CONSTRAINT match_bids_v4_pkey PRIMARY KEY (gig_id, bid_id)
            )
            """)
    }

    /// The event types it reads (the domain's own constants); it ignores every other type.
    public let eventTypes: Set<String> = [
        FreelancerEvent.FreelancerRegistered.eventType, FreelancerEvent.SkillsUpdated.eventType,
        FreelancerEvent.RateChanged.eventType, FreelancerEvent.AvailabilityChanged.eventType,
        FreelancerEvent.PreferencesSet.eventType, GigEvent.GigPosted.eventType, GigEvent.BidPlaced.eventType,
        GigEvent.BidAccepted.eventType,
        GigEvent.GigClosed.eventType,
        ContractEvent.ContractStarted.eventType, ContractEvent.ContractCompleted.eventType,
        ContractEvent.ContractCancelled.eventType, ContractEvent.ReviewSubmitted.eventType,
    ]

    /// Applies one event, as a batch of one (``apply(batch:on:)``).
    public func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        try await apply(batch: [event], on: connection)
    }

    /// Set-based: the batch is folded per freelancer, gig and contract in Swift, then written
    /// with a few statements in a fixed order (freelancers, skills and counts, gigs and open skill
    /// sets, contracts, reputation inputs, rank keys).
    public func apply(batch events: [RecordedEvent], on connection: Connection) async throws {
        var registered = LastWins<UUID, (rate: Int64, currency: String, hours: Int, at: Date, country: String?)>()
        var bids: [(gig: UUID, bid: UUID, freelancer: UUID, at: Date)] = []
        var rates = LastWins<UUID, (rate: Int64, currency: String)>()
        var hours = LastWins<UUID, Int>()
        var claims = LastWins<UUID, [SkillProficiency]>()
        var preferences = LastWins<UUID, FreelancerPreferences>()
        var posted = LastWins<UUID, GigFacts>()
        var closed = LastWins<UUID, Bool>()
        var started = LastWins<UUID, (freelancer: UUID, gig: UUID)>()
        var ended = LastWins<UUID, String>()
        var ratings = LastWins<UUID, Int>()
        for event in events where eventTypes.contains(event.type) {
            switch try event.decoded(with: registry) {
            case .freelancer(.freelancerRegistered(let p)):
                let id = p.freelancerID.uuid
                if registered[id] == nil {
                    registered.set(
                        id,
                        (
                            p.hourlyRate.minorUnits, p.hourlyRate.currency.code, p.hoursPerWeek, event.occurredAt,
                            p.country
                        ))
                }
                claims.set(id, p.skills)
            case .freelancer(.skillsUpdated(let p)):
                claims.set(p.freelancerID.uuid, p.skills)
            case .freelancer(.rateChanged(let p)):
                rates.set(p.freelancerID.uuid, (p.hourlyRate.minorUnits, p.hourlyRate.currency.code))
            case .freelancer(.availabilityChanged(let p)):
                hours.set(p.freelancerID.uuid, p.hoursPerWeek)
            case .freelancer(.preferencesSet(let p)):
                preferences.set(p.freelancerID.uuid, p.preferences)
            case .gig(.gigPosted(let p)):
                if posted[p.gigID.uuid] == nil {
                    posted.set(
                        p.gigID.uuid,
                        GigFacts(
                            client: p.clientID.uuid, currency: p.budgetMax.currency.code, min: p.budgetMin.minorUnits,
                            max: p.budgetMax.minorUnits, skills: p.skills.map(\.slug), at: event.occurredAt,
                            experience: p.experience.rawValue, hours: p.engagement.hours))
                }
            case .gig(.bidPlaced(let p)):
                bids.append((p.gigID.uuid, p.bidID.uuid, p.freelancerID.uuid, event.occurredAt))
            case .gig(.bidAccepted(let p)):
                closed.set(p.gigID.uuid, true)
            case .gig(.gigClosed(let p)):
                closed.set(p.gigID.uuid, true)
            case .contract(.contractStarted(let p)):
                if started[p.contractID.uuid] == nil {
                    started.set(p.contractID.uuid, (p.freelancerID.uuid, p.gigID.uuid))
                }
            // The first end counts.
            case .contract(.contractCompleted(let p)):
                if ended[p.contractID.uuid] == nil { ended.set(p.contractID.uuid, "completed") }
            case .contract(.contractCancelled(let p)):
                if ended[p.contractID.uuid] == nil { ended.set(p.contractID.uuid, "failed") }
            case .contract(.reviewSubmitted(let p)):
                // The client's review rates the freelancer.
                if p.authorSide == .client { ratings.set(p.contractID.uuid, p.rating) }
            default:
                continue
            }
        }
        // Freelancers whose rank key may change.
        var rerank = Set<UUID>()
        try await writeFreelancers(registered, rates, hours, connection)
        try await writePreferences(preferences, connection)
        rerank.formUnion(hours.keys)
        try await writeSkills(claims, connection)
        rerank.formUnion(claims.keys)
        try await writeGigs(posted, closed, connection)
        if !bids.isEmpty {
            // Who bid on what and when: the fairness audit's bid shares (bids are never removed).
            try await connection.execute(
                """
                INSERT INTO match_bids_v4 (gig_id, bid_id, freelancer_id, placed_at)
                SELECT * FROM unnest(\(bids.map(\.gig))::uuid[], \(bids.map(\.bid))::uuid[], \(bids.map(\.freelancer))::uuid[],
                                     \(bids.map(\.at))::timestamptz[])
                ON CONFLICT DO NOTHING
                """)
        }
        let reputation = try await writeContracts(started, ended, ratings, connection)
        rerank.formUnion(reputation)
        try await writeRankKeys(rerank, connection)
    }

    /// A gig as matching keeps it.
    private struct GigFacts {
        let client: UUID
        let currency: String
        let min: Int64
        let max: Int64
        let skills: [String]
        let at: Date
        let experience: String
        let hours: Int?
    }

    /// Each freelancer's latest preferences (they do not enter the rank key).
    private func writePreferences(_ preferences: LastWins<UUID, FreelancerPreferences>, _ connection: Connection)
        async throws
    {
        guard !preferences.isEmpty else { return }
        let p = preferences.entries
        try await connection.execute(
            """
            UPDATE match_freelancers_v4 f SET min_budget_minor = u.min_minor, min_budget_currency = u.min_currency,
                accepted_currencies = ARRAY(SELECT jsonb_array_elements_text(u.currencies)),
                wanted_skills = ARRAY(SELECT jsonb_array_elements_text(u.wanted)), max_contracts = u.max_contracts
            FROM unnest(\(p.map(\.key))::uuid[],
                        \(bind: .array(p.map { $0.value.minimumBudget.map { String($0.minorUnits) } }, type: .int8Array))::int8[],
                        \(bind: .array(p.map { $0.value.minimumBudget?.currency.code }, type: .textArray))::text[],
                        \(try p.map { try PGJSON(encoding: $0.value.currencies.map(\.code)) })::jsonb[],
                        \(try p.map { try PGJSON(encoding: $0.value.wantedSkills.map(\.slug)) })::jsonb[],
                        \(bind: .array(p.map { $0.value.maxConcurrentContracts.map { String($0) } }, type: .int4Array))::int4[])
                 AS u(freelancer_id, min_minor, min_currency, currencies, wanted, max_contracts)
            WHERE f.freelancer_id = u.freelancer_id
            """)
    }

    /// Recomputes `newcomer` and `rank_key` of `freelancers`' skill and skill-pair rows with
    /// ``Matching/rankKey(_:_:)`` under ``rankWeights`` — the scoring code itself, so the index
    /// order and the scores cannot disagree.
    private func writeRankKeys(_ freelancers: Set<UUID>, _ connection: Connection) async throws {
        guard !freelancers.isEmpty else { return }
        let facts = try await Self.rankFacts(
            "WHERE freelancer_id = ANY(\(freelancers.sorted { $0.sortsBefore($1) })::uuid[])", on: connection)
        guard !facts.isEmpty else { return }
        let (ids, newcomers, keys) = Self.ranks(facts)
        try await connection.execute(
            """
            UPDATE match_freelancer_skills_v4 s SET newcomer = u.newcomer, rank_key = u.rank_key
            FROM unnest(\(ids)::uuid[], \(newcomers)::bool[], \(keys)::float8[]) AS u(freelancer_id, newcomer, rank_key)
            WHERE s.freelancer_id = u.freelancer_id AND (s.newcomer, s.rank_key) IS DISTINCT FROM (u.newcomer, u.rank_key)
            """)
        try await connection.execute(
            """
            UPDATE match_freelancer_skill_pairs_v4 s SET newcomer = u.newcomer, rank_key = u.rank_key
            FROM unnest(\(ids)::uuid[], \(newcomers)::bool[], \(keys)::float8[]) AS u(freelancer_id, newcomer, rank_key)
            WHERE s.freelancer_id = u.freelancer_id AND (s.newcomer, s.rank_key) IS DISTINCT FROM (u.newcomer, u.rank_key)
            """)
    }

    /// What the rank key is computed from, for the freelancers `filter` (a `WHERE` clause, or
    /// empty) selects, in id order, at most `limit` of them.
    static func rankFacts(_ filter: SQL, limit: Int? = nil, on connection: Connection) async throws
        -> [Matching.FreelancerFacts]
    {
        let cap: SQL = limit.map { "LIMIT \($0)" } ?? ""
        return try await connection.query(
            """
            SELECT freelancer_id, hourly_rate_minor, currency, hours_per_week, active_contracts, ratings_sum, ratings_n,
                   completed, failed, contracts_started, min_budget_minor, min_budget_currency, accepted_currencies,
                   wanted_skills, max_contracts
            FROM match_freelancers_v4 \(filter) ORDER BY freelancer_id \(cap)
            """
        ).rows.map { try Matching.FreelancerFacts(row: $0) }
    }

    /// `newcomer` and `rank_key` of each of `facts`, by ``Matching/rankKey(_:_:)`` under
    /// ``rankWeights``, as aligned columns.
    static func ranks(_ facts: [Matching.FreelancerFacts]) -> (ids: [UUID], newcomers: [Bool], keys: [Double]) {
        (facts.map(\.id), facts.map { $0.started == 0 }, facts.map { Matching.rankKey($0, rankWeights) })
    }

    private func writeFreelancers(
        _ registered: LastWins<UUID, (rate: Int64, currency: String, hours: Int, at: Date, country: String?)>,
        _ rates: LastWins<UUID, (rate: Int64, currency: String)>, _ hours: LastWins<UUID, Int>,
        _ connection: Connection
    ) async throws {
        if !registered.isEmpty {
            let r = registered.entries
            let inserted = try await connection.query(
                """
                INSERT INTO match_freelancers_v4 (freelancer_id, hourly_rate_minor, currency, hours_per_week, registered_at, country)
                SELECT * FROM unnest(\(r.map(\.key))::uuid[], \(r.map(\.value.rate))::int8[], \(r.map(\.value.currency))::text[],
                                     \(r.map { Int32(clamping: $0.value.hours) })::int4[], \(r.map(\.value.at))::timestamptz[],
                                     \(bind: .array(r.map(\.value.country), type: .textArray))::text[])
                ON CONFLICT DO NOTHING
                RETURNING 1
                """
            ).rows.count
            if inserted > 0 {
                try await connection.execute(
                    """
                    INSERT INTO match_population_v4 (singleton, freelancers) VALUES (true, \(inserted))
                    ON CONFLICT (singleton) DO UPDATE SET freelancers = match_population_v4.freelancers + EXCLUDED.freelancers
                    """)
            }
        }
        if !rates.isEmpty {
            let r = rates.entries
            try await connection.execute(
                """
                UPDATE match_freelancers_v4 f SET hourly_rate_minor = u.rate, currency = u.currency
                FROM unnest(\(r.map(\.key))::uuid[], \(r.map(\.value.rate))::int8[], \(r.map(\.value.currency))::text[]) AS u(freelancer_id, rate, currency)
                WHERE f.freelancer_id = u.freelancer_id AND (f.hourly_rate_minor, f.currency) IS DISTINCT FROM (u.rate, u.currency)
                """)
        }
        if !hours.isEmpty {
            let h = hours.entries
            try await connection.execute(
                """
                UPDATE match_freelancers_v4 f SET hours_per_week = u.hours
                FROM unnest(\(h.map(\.key))::uuid[], \(h.map { Int32(clamping: $0.value) })::int4[]) AS u(freelancer_id, hours)
                WHERE f.freelancer_id = u.freelancer_id AND f.hours_per_week <> u.hours
                """)
        }
    }

    /// Recomputes the reputation inputs (contracts started, completed, failed and active, the
    /// client ratings) of `freelancers` — of every freelancer when nil — from their contracts.
    static func recomputeReputation(of freelancers: [UUID]?, on connection: Connection) async throws {
        let only: SQL = freelancers.map { "WHERE freelancer_id = ANY(\($0)::uuid[])" } ?? ""
        try await connection.execute(
            """
            UPDATE match_freelancers_v4 f SET contracts_started = a.started, completed = a.completed, failed = a.failed,
                active_contracts = a.active, ratings_sum = a.ratings_sum, ratings_n = a.ratings_n
            FROM (
                SELECT freelancer_id, count(*)::int AS started, (count(*) FILTER (WHERE outcome = 'completed'))::int AS completed,
                       (count(*) FILTER (WHERE outcome = 'failed'))::int AS failed, (count(*) FILTER (WHERE outcome = 'active'))::int AS active,
                       coalesce(sum(client_rating), 0)::int AS ratings_sum, count(client_rating)::int AS ratings_n
                FROM match_contracts_v4 \(only)
                GROUP BY freelancer_id
            ) a
            WHERE f.freelancer_id = a.freelancer_id
            """)
    }

    /// Skills in byte order: the order of a pair's `skill1` and `skill2` (``Matching`` asks for
    /// a pair in the same order).
    static func byteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// Replaces each claiming freelancer's skills (and pairs of skills) with its latest claims;
    /// document frequencies move by exactly the rows deleted and inserted.
    private func writeSkills(_ claims: LastWins<UUID, [SkillProficiency]>, _ connection: Connection) async throws {
        guard !claims.isEmpty else { return }
        var ids: [UUID] = []
        var skills: [String] = []
        var levels: [Int32] = []
        // Every pair of each freelancer's skills, the first before the second in byte order.
        var pairIDs: [UUID] = []
        var firsts: [String] = []
        var firstLevels: [Int32] = []
        var seconds: [String] = []
        var secondLevels: [Int32] = []
        for (id, list) in claims.entries {
            // One row per skill (the last level claimed for it wins).
            var level: [String: Int] = [:]
            for claim in list { level[claim.skill.slug] = claim.level.rawValue }
            let sorted = level.keys.sorted(by: Self.byteOrder)
            for (i, skill) in sorted.enumerated() {
                ids.append(id)
                skills.append(skill)
                levels.append(Int32(clamping: level[skill] ?? 0))
                for other in sorted[(i + 1)...] {
                    pairIDs.append(id)
                    firsts.append(skill)
                    firstLevels.append(Int32(clamping: level[skill] ?? 0))
                    seconds.append(other)
                    secondLevels.append(Int32(clamping: level[other] ?? 0))
                }
            }
        }
        try await connection.execute(
            """
            DELETE FROM match_freelancer_skill_pairs_v4 p
            WHERE p.freelancer_id = ANY(\(claims.keys)::uuid[])
              AND (p.freelancer_id, p.skill1, p.skill2) NOT IN (SELECT * FROM unnest(\(pairIDs)::uuid[], \(firsts)::text[], \(seconds)::text[]))
            """)
        if !pairIDs.isEmpty {
            try await connection.execute(
                """
                INSERT INTO match_freelancer_skill_pairs_v4 AS p (freelancer_id, skill1, level1, skill2, level2, newcomer, rank_key)
                -- newcomer and rank_key are set by writeRankKeys at the end of the batch.
                SELECT c.freelancer_id, c.skill1, c.level1, c.skill2, c.level2, true, 0
                FROM unnest(\(pairIDs)::uuid[], \(firsts)::text[], \(firstLevels)::int4[], \(seconds)::text[], \(secondLevels)::int4[])
                     AS c(freelancer_id, skill1, level1, skill2, level2)
                ON CONFLICT (freelancer_id, skill1, skill2) DO UPDATE SET level1 = EXCLUDED.level1, level2 = EXCLUDED.level2
                WHERE (p.level1, p.level2) IS DISTINCT FROM (EXCLUDED.level1, EXCLUDED.level2)
                """)
        }
        var delta: [String: Int] = [:]
        for row in try await connection.query(
            """
            DELETE FROM match_freelancer_skills_v4 s
            WHERE s.freelancer_id = ANY(\(claims.keys)::uuid[])
              AND (s.freelancer_id, s.skill) NOT IN (SELECT c.freelancer_id, c.skill FROM unnest(\(ids)::uuid[], \(skills)::text[]) AS c(freelancer_id, skill))
            RETURNING s.skill
            """
        ).rows {
            delta[try row.decode(String.self, at: 0), default: 0] -= 1
        }
        if !ids.isEmpty {
            for row in try await connection.query(
                """
                INSERT INTO match_freelancer_skills_v4 (freelancer_id, skill, level, newcomer, rank_key)
                -- newcomer and rank_key are set by writeRankKeys at the end of the batch.
                SELECT c.freelancer_id, c.skill, c.level, true, 0
                FROM unnest(\(ids)::uuid[], \(skills)::text[], \(levels)::int4[]) AS c(freelancer_id, skill, level)
                ON CONFLICT (freelancer_id, skill) DO NOTHING
                RETURNING skill
                """
            ).rows {
                delta[try row.decode(String.self, at: 0), default: 0] += 1
            }
            try await connection.execute(
                """
                UPDATE match_freelancer_skills_v4 s SET level = c.level
                FROM unnest(\(ids)::uuid[], \(skills)::text[], \(levels)::int4[]) AS c(freelancer_id, skill, level)
                WHERE s.freelancer_id = c.freelancer_id AND s.skill = c.skill AND s.level <> c.level
                """)
        }
        let changed = delta.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        guard !changed.isEmpty else { return }
        try await connection.execute(
            """
            INSERT INTO match_skill_df_v4 (skill, freelancers)
            SELECT * FROM unnest(\(changed.map(\.key))::text[], \(changed.map { Int32(clamping: $0.value) })::int4[])
            ON CONFLICT (skill) DO UPDATE SET freelancers = match_skill_df_v4.freelancers + EXCLUDED.freelancers
            """)
        // No row for a skill nobody offers, however the batches fell.
        try await connection.execute(
            "DELETE FROM match_skill_df_v4 WHERE skill = ANY(\(changed.map(\.key))::text[]) AND freelancers = 0")
    }

    /// Gigs inserted once and closed once; open gigs per skill set move by exactly those rows.
    private func writeGigs(_ posted: LastWins<UUID, GigFacts>, _ closed: LastWins<UUID, Bool>, _ connection: Connection)
        async throws
    {
        var delta: [String: (skills: [String], n: Int)] = [:]
        if !posted.isEmpty {
            let p = posted.entries
            for row in try await connection.query(
                """
                INSERT INTO match_gigs_v4 (gig_id, client_id, currency, budget_min_minor, budget_max_minor, skills, skill_set, status, posted_at,
                                           experience, engagement_hours)
                SELECT u.gig_id, u.client_id, u.currency, u.budget_min, u.budget_max, s.skills, s.skills::text, 'open', u.posted_at,
                       u.experience, u.hours
                FROM unnest(\(p.map(\.key))::uuid[], \(p.map(\.value.client))::uuid[], \(p.map(\.value.currency))::text[],
                            \(p.map(\.value.min))::int8[], \(p.map(\.value.max))::int8[], \(try p.map { try PGJSON(encoding: $0.value.skills) })::jsonb[],
                            \(p.map(\.value.at))::timestamptz[], \(p.map(\.value.experience))::text[],
                            \(bind: .array(p.map { $0.value.hours.map { String($0) } }, type: .int4Array))::int4[])
                     AS u(gig_id, client_id, currency, budget_min, budget_max, skills, posted_at, experience, hours)
                CROSS JOIN LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(u.skills)) AS skills) s
                ON CONFLICT DO NOTHING
                RETURNING skill_set, skills
                """
            ).rows {
                let key = try row.decode(String.self, at: 0)
                let skills = try row.decode([String].self, at: 1)
                delta[key, default: (skills, 0)].n += 1
            }
        }
        if !closed.isEmpty {
            for row in try await connection.query(
                """
                UPDATE match_gigs_v4 SET status = 'closed' WHERE gig_id = ANY(\(closed.keys)::uuid[]) AND status = 'open'
                RETURNING skill_set, skills
                """
            ).rows {
                let key = try row.decode(String.self, at: 0)
                let skills = try row.decode([String].self, at: 1)
                delta[key, default: (skills, 0)].n -= 1
            }
        }
        let changed = delta.filter { $0.value.n != 0 }.sorted { $0.key < $1.key }
        guard !changed.isEmpty else { return }
        try await connection.execute(
            """
            INSERT INTO match_open_skill_sets_v4 (skill_set, skills, open_gigs)
            SELECT u.skill_set, ARRAY(SELECT jsonb_array_elements_text(u.skills)), u.n
            FROM unnest(\(changed.map(\.key))::text[], \(try changed.map { try PGJSON(encoding: $0.value.skills) })::jsonb[],
                        \(changed.map { Int32(clamping: $0.value.n) })::int4[]) AS u(skill_set, skills, n)
            ON CONFLICT (skill_set) DO UPDATE SET open_gigs = match_open_skill_sets_v4.open_gigs + EXCLUDED.open_gigs
            """)
        try await connection.execute(
            """
            DELETE FROM match_open_skill_sets_v4 WHERE skill_set = ANY(\(changed.map(\.key))::text[]) AND open_gigs = 0
            """)
    }

    /// Contracts as keyed facts (started once, ended once, rated by the client); the reputation
    /// inputs of their freelancers are recomputed from them. Returns those freelancers.
    private func writeContracts(
        _ started: LastWins<UUID, (freelancer: UUID, gig: UUID)>, _ ended: LastWins<UUID, String>,
        _ ratings: LastWins<UUID, Int>,
        _ connection: Connection
    ) async throws -> Set<UUID> {
        var touched = Set<UUID>()
        if !started.isEmpty {
            let s = started.entries
            for row in try await connection.query(
                """
                INSERT INTO match_contracts_v4 (contract_id, freelancer_id, gig_id, outcome)
                SELECT c.contract_id, c.freelancer_id, c.gig_id, 'active'
                FROM unnest(\(s.map(\.key))::uuid[], \(s.map(\.value.freelancer))::uuid[], \(s.map(\.value.gig))::uuid[]) AS c(contract_id, freelancer_id, gig_id)
                ON CONFLICT DO NOTHING
                RETURNING freelancer_id
                """
            ).rows { touched.insert(try row.decode(UUID.self, at: 0)) }
        }
        if !ended.isEmpty {
            let e = ended.entries
            for row in try await connection.query(
                """
                UPDATE match_contracts_v4 c SET outcome = u.outcome
                FROM unnest(\(e.map(\.key))::uuid[], \(e.map(\.value))::text[]) AS u(contract_id, outcome)
                WHERE c.contract_id = u.contract_id AND c.outcome = 'active'
                RETURNING c.freelancer_id
                """
            ).rows { touched.insert(try row.decode(UUID.self, at: 0)) }
        }
        if !ratings.isEmpty {
            let r = ratings.entries
            for row in try await connection.query(
                """
                UPDATE match_contracts_v4 c SET client_rating = u.rating
                FROM unnest(\(r.map(\.key))::uuid[], \(r.map { Int32(clamping: $0.value) })::int4[]) AS u(contract_id, rating)
                WHERE c.contract_id = u.contract_id AND c.client_rating IS DISTINCT FROM u.rating
                RETURNING c.freelancer_id
                """
            ).rows { touched.insert(try row.decode(UUID.self, at: 0)) }
        }
        guard !touched.isEmpty else { return touched }
        try await Self.recomputeReputation(of: touched.sorted { $0.sortsBefore($1) }, on: connection)
        // Experience per skill: completed contracts whose gig asked for the skill, and their ratings.
        let ids = touched.sorted { $0.sortsBefore($1) }
        try await connection.execute(
            """
            DELETE FROM match_experience_v4 x WHERE x.freelancer_id = ANY(\(ids)::uuid[])
              AND NOT EXISTS (SELECT 1 FROM match_contracts_v4 c JOIN match_gigs_v4 g ON g.gig_id = c.gig_id
                              WHERE c.freelancer_id = x.freelancer_id AND c.outcome = 'completed' AND x.skill = ANY(g.skills))
            """)
        try await connection.execute(
            """
            INSERT INTO match_experience_v4 AS x (freelancer_id, skill, completed, ratings_sum, ratings_n)
            SELECT c.freelancer_id, s.skill, count(*)::int, coalesce(sum(c.client_rating), 0)::int, count(c.client_rating)::int
            FROM match_contracts_v4 c JOIN match_gigs_v4 g ON g.gig_id = c.gig_id CROSS JOIN LATERAL unnest(g.skills) AS s(skill)
            WHERE c.freelancer_id = ANY(\(ids)::uuid[]) AND c.outcome = 'completed'
            GROUP BY c.freelancer_id, s.skill
            ON CONFLICT (freelancer_id, skill) DO UPDATE SET completed = EXCLUDED.completed, ratings_sum = EXCLUDED.ratings_sum,
                ratings_n = EXCLUDED.ratings_n
            WHERE (x.completed, x.ratings_sum, x.ratings_n) IS DISTINCT FROM (EXCLUDED.completed, EXCLUDED.ratings_sum, EXCLUDED.ratings_n)
            """)
        return touched
    }
}
