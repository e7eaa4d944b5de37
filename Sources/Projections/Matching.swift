import EventStore
import Foundation
import Marketplace
import PQ

/// Scores how well a freelancer fits a gig, explained component by component (sql/READ_MODELS.md):
///
/// - **skill coverage**: Σ over the gig's skills the freelancer has of idf(s) × level/3, divided
///   by Σ idf(s) over the gig's skills, with idf(s) = ln((N+1)/(df(s)+1)) + 1 over registered
///   freelancers, so a niche skill counts more than a common one;
/// - **budget fit**: the freelancer's price (hourly rate × the gig's hours when it is hourly,
///   else × ``Weights/typicalGigHours``) against the gig's budget: 1 inside it, falling linearly
///   to 0 at one budget-max away; 0 in another currency (currencies are never converted);
/// - **availability**: free hours (hours per week − ``Weights/hoursPerActiveContract`` per active
///   contract) ÷ hours per week, 0 at capacity;
/// - **reputation**: half the Bayesian average rating ((C·m + Σ ratings) ÷ (C + n), rescaled
///   from 1–5 to 0–1) and half the Bayesian completion rate ((completed + α) ÷ (ended + α + β)),
///   so a newcomer starts at the prior, not at zero;
/// - **experience fit** (weights v2): 1 when the gig asks for `any` or `entry`; for
///   `intermediate` / `expert`, the mean over the gig's skills of min(1, completed contracts in
///   the skill ÷ ``Weights/intermediateContracts`` / ``Weights/expertContracts``), times
///   (0.5 + 0.5 × the Bayesian average client rating of those contracts, rescaled to 0–1);
/// - **preference fit** (weights v2): the mean of four parts, each 1 when the freelancer set no
///   such preference: budget (the gig's budget max ÷ their minimum, at most 1; 0 when the minimum
///   is in another currency), currency (1 when they accept the gig's, else 0), capacity (contracts
///   they may still take ÷ their limit), wanted skills (1 when the gig asks for one, else 0.5).
///
/// Score = the weighted sum (weights are versioned); ranked by the exact score, ties broken by
/// freelancer id (gig id for a feed). The fairness re-rank keeps one top-k slot for the best
/// *qualified newcomer* (no contract yet, coverage ≥ ``Weights/newcomerMinimumCoverage``, budget
/// fit > 0) when no qualified newcomer made the top k (k ≥ 2) on score alone — a newcomer who
/// does not qualify does not count — : the last slot goes to it. Feeds have no such slot.
///
/// Results are published with every score and component rounded to 4 decimals
/// (sql/READ_MODELS.md, docs/JSON.md) and carry the `matching` checkpoint they reflect.
///
/// Reads the version-4 tables of ``MatchingProjector`` (idf from maintained document
/// frequencies; candidates and feeds read a few hundred rows in bound order instead of scoring
/// everyone, with the same results — `MatchingSearchTests` checks them against scoring every
/// candidate). Each call reads one snapshot.
public struct Matching: Sendable {
    /// The weights and parameters of the score, versioned: results name the ``version`` they were
    /// scored with. ``v1`` is the shipped set.
    public struct Weights: Sendable, Hashable, Codable {
        /// Published with every result as ``Match/weightsVersion``.
        public var version: Int
        /// Weight of skill coverage in the score.
        public var coverage: Double
        /// Weight of budget fit in the score.
        public var budget: Double
        /// Weight of availability in the score.
        public var availability: Double
        /// Weight of reputation in the score.
        public var reputation: Double
        /// Weight of experience fit in the score (0 in ``v1``).
        public var experience: Double
        /// Weight of preference fit in the score (0 in ``v1``).
        public var preference: Double
        /// Hours of work a typical gig takes: the hourly rate times this is the freelancer's
        /// typical price.
        public var typicalGigHours: Double
        /// Weekly hours each active contract takes from the freelancer's availability.
        public var hoursPerActiveContract: Double
        /// The prior rating (1–5) of the Bayesian average.
        public var ratingPrior: Double
        /// How many ratings the prior counts as (C in the Bayesian average).
        public var ratingPriorWeight: Double
        /// α of the completion rate: prior completed contracts.
        public var completionAlpha: Double
        /// β of the completion rate: prior failed contracts.
        public var completionBeta: Double
        /// The coverage a newcomer needs to qualify for the newcomer slot.
        public var newcomerMinimumCoverage: Double
        /// Completed contracts in a skill that make a full experience fit for an `intermediate` gig.
        public var intermediateContracts: Double
        /// The same for an `expert` gig.
        public var expertContracts: Double

        /// Weights version 1: no experience or preference fit (they weigh 0).
        public static let v1 = Weights(
            version: 1, coverage: 0.5, budget: 0.2, availability: 0.1, reputation: 0.2, experience: 0, preference: 0,
            typicalGigHours: 40, hoursPerActiveContract: 10, ratingPrior: 4, ratingPriorWeight: 5, completionAlpha: 2,
            completionBeta: 1, newcomerMinimumCoverage: 0.25, intermediateContracts: 2, expertContracts: 5)

        /// Weights version 2 (the default): experience and preferences weigh 0.1 each.
        public static let v2 = Weights(
            version: 2, coverage: 0.4, budget: 0.15, availability: 0.1, reputation: 0.15, experience: 0.1,
            preference: 0.1, typicalGigHours: 40, hoursPerActiveContract: 10, ratingPrior: 4, ratingPriorWeight: 5,
            completionAlpha: 2, completionBeta: 1, newcomerMinimumCoverage: 0.25, intermediateContracts: 2,
            expertContracts: 5)

        /// A newcomer who may take the newcomer slot: coverage ≥ ``newcomerMinimumCoverage`` and
        /// a budget fit above 0.
        func qualifiesForNewcomerSlot(_ m: Match) -> Bool {
            m.newcomer && m.coverage >= newcomerMinimumCoverage && m.budgetFit > 0
        }
    }

    static let projections: [any Projector] = [MatchingProjector()]

    /// One scored pair, with every component (each in 0…1; 4 decimals once published).
    public struct Match: Sendable, Hashable, Codable {
        /// The gig scored.
        @LowercaseUUID public var gigID: UUID
        /// The freelancer scored.
        @LowercaseUUID public var freelancerID: UUID
        /// The weighted sum of the components (0…1 when the weights sum to 1, as ``Weights/v1``'s
        /// and ``Weights/v2``'s do).
        public var score: Double
        /// Skill coverage, 0…1.
        public var coverage: Double
        /// Budget fit, 0…1 (0 in another currency).
        public var budgetFit: Double
        /// Availability, 0…1 (0 at capacity).
        public var availability: Double
        /// Reputation, 0…1.
        public var reputation: Double
        /// Experience fit, 0…1: completed contracts in the gig's skills, and their ratings, against
        /// the level the gig asks for.
        public var experienceFit: Double
        /// Preference fit, 0…1: the gig against the freelancer's minimum budget, currencies,
        /// capacity and wanted skills.
        public var preferenceFit: Double
        /// No contract started yet.
        public let newcomer: Bool
        /// Put in the top k by the newcomer slot rather than by score.
        public var viaNewcomerSlot: Bool
        /// The gig's skills the freelancer has, sorted.
        public let matchedSkills: [String]
        /// The gig's skills the freelancer lacks, sorted.
        public let missingSkills: [String]
        /// The ``Weights/version`` the score was computed with.
        public let weightsVersion: Int
        /// Every component in words (explain only; null in candidates and feeds).
        @NullEncoded public var explanation: [String]?

        enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case freelancerID = "freelancerId"
            case score, coverage, budgetFit, availability, reputation, experienceFit, preferenceFit,
                newcomer, viaNewcomerSlot, matchedSkills, missingSkills, weightsVersion, explanation
        }

        /// Scores and components rounded to the published 4 decimals.
        func published() -> Match {
            var m = self
            m.score = rounded(score, places: 4)
            m.coverage = rounded(coverage, places: 4)
            m.budgetFit = rounded(budgetFit, places: 4)
            m.availability = rounded(availability, places: 4)
            m.reputation = rounded(reputation, places: 4)
            m.experienceFit = rounded(experienceFit, places: 4)
            m.preferenceFit = rounded(preferenceFit, places: 4)
            return m
        }
    }

    /// Where the matching read model is read.
    public let pool: ConnectionPool
    /// The weights every query of this value scores with.
    public let weights: Weights
    /// How much the searches read per round (tests shrink it to exercise every stopping rule).
    var tuning = Tuning()

    struct Tuning: Sendable {
        /// Rows per (skill, level) list in the first round (doubling each round after, up to
        /// 4,096); nil: max(4k, 32), what ``CandidateSearch`` reads by default.
        var firstRead: Int?
        /// Skill-set groups per round of a feed.
        var groupsPerRound = 16
    }

    /// Queries over the matching read model in the database behind `pool`, scoring with `weights`.
    /// With weights that differ from ``MatchingProjector/rankWeights`` in the availability or
    /// reputation parts (weights or parameters) the queries stay exact but score every candidate.
    public init(pool: ConnectionPool, weights: Weights = .v2) {
        self.pool = pool
        self.weights = weights
    }

    /// The best `k` freelancers for `gig` (only freelancers with at least one of its skills).
    ///
    /// Candidates are read per (skill, level) in `rank_key` order (the freelancer's own part of
    /// the score, best first), a few dozen rows per list and round; each row read is scored
    /// exactly. Reading stops when no unread freelancer can reach the k-th score (ties by id):
    /// for every combination of levels on the gig's skills, its coverage plus full budget,
    /// experience and preference fits plus the best unread freelancer's own part stays below it. The newcomer slot searches the
    /// newcomers' lists the same way. Results equal scoring every candidate.
    public func candidates(forGig gig: UUID, k: Int = 10) async throws -> Snapshot<[Match]> {
        let (matches, checkpoints) = try await ReadModels.read(pool, Self.projections) { conn in
            try await candidates(gig, k: k, conn).map { $0.published() }
        }
        return Snapshot(data: matches, checkpoints: checkpoints)
    }

    func candidates(_ gig: UUID, k: Int, _ conn: Connection) async throws -> [Match] {
        guard k > 0, let context = try await gigContext(gig, conn) else { return [] }
        let fetch: CandidateSearch.Fetch = { try await self.fetch($0, gigSkills: $1, newcomersOnly: $2, conn) }
        var search = CandidateSearch(
            gig: context, weights: weights, exhaustive: !Self.rankKeyFits(weights), firstRead: tuning.firstRead)
        try await search.run(k: k, newcomersOnly: false, qualifies: { _ in true }, fetch: fetch)
        let byID: (Match, Match) -> Bool = { $0.freelancerID.sortsBefore($1.freelancerID) }
        let top = Self.rank(Array(search.scored.values), k: k, tieBreak: byID, weights: weights)
        let w = weights
        // Done when a qualified newcomer made the top k on score alone. A newcomer `rank` put in
        // the slot is only the best of those this search happened to read: the best of all is
        // searched for below.
        guard k >= 2, !top.contains(where: { w.qualifiesForNewcomerSlot($0) && !$0.viaNewcomerSlot }) else {
            return top
        }
        try await search.run(k: 1, newcomersOnly: true, qualifies: w.qualifiesForNewcomerSlot, fetch: fetch)
        return Self.rank(Array(search.scored.values), k: k, tieBreak: byID, weights: weights)
    }

    /// The best `k` open gigs for `freelancer` (open gigs sharing at least one of its skills).
    ///
    /// Open gigs are grouped by skill set (`match_open_skill_sets_v4`): within a group every gig
    /// has the same coverage (and the same experience evidence), so groups are visited best bound
    /// first and, in each, only the `k` gigs with the best gig-dependent part (budget fit, and the
    /// experience and preference fits as the gig's level, budget and currency make them) are read;
    /// visiting stops when a group's bound (full budget, experience and preference fits) falls
    /// below the k-th score.
    public func feed(forFreelancer freelancer: UUID, k: Int = 10) async throws -> Snapshot<[Match]> {
        let (matches, checkpoints) = try await ReadModels.read(pool, Self.projections) { conn in
            k > 0 ? try await feed(freelancer, k: k, conn).map { $0.published() } : []
        }
        return Snapshot(data: matches, checkpoints: checkpoints)
    }

    /// Its three statements are prepared, and the first sets `plan_cache_mode` to
    /// `force_generic_plan` for the rest of the read's transaction (as ``gigContext(_:_:)`` does
    /// for the candidates search): planned once per connection, not at every call.
    private func feed(_ freelancer: UUID, k: Int, _ conn: Connection) async throws -> [Match] {
        let w = weights
        let rows = try await conn.query(
            ("""
            SELECT f.freelancer_id, f.hourly_rate_minor, f.currency, f.hours_per_week, f.active_contracts, f.ratings_sum, f.ratings_n,
                   f.completed, f.failed, f.contracts_started, f.min_budget_minor, f.min_budget_currency, f.accepted_currencies,
                   f.wanted_skills, f.max_contracts,
                   ARRAY(SELECT s.skill FROM read_models.match_freelancer_skills_v4 s WHERE s.freelancer_id = f.freelancer_id ORDER BY s.skill) AS skills,
                   ARRAY(SELECT s.level FROM read_models.match_freelancer_skills_v4 s WHERE s.freelancer_id = f.freelancer_id ORDER BY s.skill) AS levels,
                   ARRAY(SELECT e.skill FROM read_models.match_experience_v4 e WHERE e.freelancer_id = f.freelancer_id ORDER BY e.skill) AS x_skills,
                   ARRAY(SELECT e.completed FROM read_models.match_experience_v4 e WHERE e.freelancer_id = f.freelancer_id ORDER BY e.skill) AS x_completed,
                   ARRAY(SELECT e.ratings_sum FROM read_models.match_experience_v4 e WHERE e.freelancer_id = f.freelancer_id ORDER BY e.skill) AS x_ratings_sum,
                   ARRAY(SELECT e.ratings_n FROM read_models.match_experience_v4 e WHERE e.freelancer_id = f.freelancer_id ORDER BY e.skill) AS x_ratings_n,
                   coalesce((SELECT p.freelancers FROM read_models.match_population_v4 p), 0) AS population,
                   ARRAY(SELECT d.skill FROM read_models.match_skill_df_v4 d ORDER BY d.skill) AS df_skills,
                   ARRAY(SELECT d.freelancers FROM read_models.match_skill_df_v4 d ORDER BY d.skill) AS df
            FROM (SELECT set_config('plan_cache_mode', 'force_generic_plan', true)) AS m(mode)
            CROSS JOIN read_models.match_freelancers_v4 f WHERE f.freelancer_id = \(freelancer)
            """ as SQL).prepared()
        ).rows
        guard let row = rows.first else { return [] }
        let me = try FreelancerFacts(row: row)
        let skills = try row.decode([String].self, "skills")
        let levels = try row.decode([Int].self, "levels")
        guard !skills.isEmpty else { return [] }
        let mine = Dictionary(zip(skills, levels), uniquingKeysWith: { $1 })
        let experience = try Experience.bySkill(row)
        let population = try row.decode(Int.self, "population")
        let df = Dictionary(
            zip(try row.decode([String].self, "df_skills"), try row.decode([Int].self, "df")), uniquingKeysWith: { $1 })
        struct Group {
            let key: String
            let skills: [String]
            let idf: [Double]
            let bound: Double
            /// Experience fit of an `intermediate` and an `expert` gig of this skill set (the
            /// other levels fit fully): the same for every gig of the group.
            let intermediate: Double
            let expert: Double
        }
        var groups: [Group] = []
        for set in try await conn.query(
            ("""
            SELECT skill_set, skills FROM read_models.match_open_skill_sets_v4 WHERE open_gigs > 0 AND skills && \(skills)::text[]
            """ as SQL).prepared()
        ).rows {
            let gigSkills = try set.decode([String].self, at: 1)
            let idf = gigSkills.map { Self.idf(population: population, df: df[$0] ?? 0) }
            // The best any gig of the group can give: full budget, experience and preference fits.
            let bound = Self.match(
                gig: UUID(), skills: gigSkills, idf: idf, levels: mine, freelancer: me, budgetFit: 1, experienceFit: 1,
                preferenceFit: 1, weights: w
            ).score
            groups.append(
                Group(
                    key: try set.decode(String.self, at: 0), skills: gigSkills, idf: idf, bound: bound,
                    intermediate: Self.experienceFit(.intermediate, skills: gigSkills, experience, w),
                    expert: Self.experienceFit(.expert, skills: gigSkills, experience, w)))
        }
        groups.sort { $0.bound != $1.bound ? $0.bound > $1.bound : $0.key < $1.key }
        let order: (Match, Match) -> Bool = {
            $0.score != $1.score ? $0.score > $1.score : $0.gigID.sortsBefore($1.gigID)
        }
        var best: [Match] = []
        var next = 0
        while next < groups.count {
            if best.count >= k, groups[next].bound < best[k - 1].score { break }
            let chunk = Array(groups[next..<min(groups.count, next + max(1, tuning.groupsPerRound))])
            next += chunk.count
            for gigRow in try await conn.query(
                ("""
                SELECT g.n::int AS n, x.gig_id, x.currency, x.budget_min_minor, x.budget_max_minor, x.experience, x.engagement_hours
                FROM unnest(\(chunk.map(\.key))::text[], \(chunk.map(\.intermediate))::float8[], \(chunk.map(\.expert))::float8[])
                     WITH ORDINALITY AS g(skill_set, intermediate, expert, n)
                CROSS JOIN LATERAL (
                    -- Ordered by the part of the score that differs between gigs of one skill set
                    -- (budget fit, experience fit, the gig's budget and currency in the preference
                    -- fit), the same expressions as in Swift, for the order only: the values are
                    -- computed in Swift from the row.
                    SELECT o.gig_id, o.currency, o.budget_min_minor, o.budget_max_minor, o.experience, o.engagement_hours,
                           \(w.budget) * coalesce(CASE WHEN o.currency <> \(me.currency) THEN 0
                                ELSE greatest(0, 1 - greatest(o.budget_min_minor - \(me.rate) * coalesce(o.engagement_hours, \(w.typicalGigHours)),
                                                               \(me.rate) * coalesce(o.engagement_hours, \(w.typicalGigHours)) - o.budget_max_minor, 0)
                                                  / nullif(o.budget_max_minor, 0)::float8) END, 0)
                           + \(w.experience) * CASE o.experience WHEN 'intermediate' THEN g.intermediate WHEN 'expert' THEN g.expert ELSE 1 END
                           + \(w.preference) * (
                               CASE WHEN \(me.minimumBudget)::int8 IS NULL THEN 1
                                    WHEN o.currency <> \(me.minimumBudgetCurrency)::text THEN 0
                                    ELSE least(1, o.budget_max_minor::float8 / \(me.minimumBudget)::int8) END
                               + CASE WHEN cardinality(\(me.currencies)::text[]) = 0 OR o.currency = ANY(\(me.currencies)::text[]) THEN 1 ELSE 0 END
                             ) / 4 AS gig_part
                    FROM read_models.match_gigs_v4 o WHERE o.skill_set = g.skill_set AND o.status = 'open'
                    ORDER BY gig_part DESC, o.gig_id LIMIT \(k)
                ) x
                """ as SQL).prepared()
            ).rows {
                let group = chunk[try gigRow.decode(Int.self, "n") - 1]
                let context = GigContext(
                    terms: try GigTerms(id: try gigRow.decode(UUID.self, "gig_id"), row: gigRow), skills: group.skills,
                    idf: group.idf)
                best.append(context.match(me, levels: mine, experience: experience, weights: w))
            }
            best.sort(by: order)
            if best.count > k { best.removeLast(best.count - k) }
        }
        return best
    }

    /// Every component of `freelancer` against `gig`, with matched and missing skills; nil when
    /// the read model has no such gig or freelancer.
    public func explain(gig: UUID, freelancer: UUID) async throws -> Snapshot<Match>? {
        let (match, checkpoints) = try await ReadModels.read(pool, Self.projections) { conn in
            try await explain(gig, freelancer, conn)?.published()
        }
        return match.map { Snapshot(data: $0, checkpoints: checkpoints) }
    }

    private func explain(_ gig: UUID, _ freelancer: UUID, _ conn: Connection) async throws -> Match? {
        guard let context = try await gigContext(gig, conn) else { return nil }
        let rows = try await conn.query(
            """
            SELECT f.freelancer_id, f.hourly_rate_minor, f.currency, f.hours_per_week, f.active_contracts, f.ratings_sum, f.ratings_n,
                   f.completed, f.failed, f.contracts_started, f.min_budget_minor, f.min_budget_currency, f.accepted_currencies,
                   f.wanted_skills, f.max_contracts,
                   ARRAY(SELECT s.skill FROM read_models.match_freelancer_skills_v4 s WHERE s.freelancer_id = f.freelancer_id AND s.skill = ANY(\(context.skills)::text[]) ORDER BY s.skill) AS skills,
                   ARRAY(SELECT s.level FROM read_models.match_freelancer_skills_v4 s WHERE s.freelancer_id = f.freelancer_id AND s.skill = ANY(\(context.skills)::text[]) ORDER BY s.skill) AS levels,
                   ARRAY(SELECT e.skill FROM read_models.match_experience_v4 e WHERE e.freelancer_id = f.freelancer_id AND e.skill = ANY(\(context.skills)::text[]) ORDER BY e.skill) AS x_skills,
                   ARRAY(SELECT e.completed FROM read_models.match_experience_v4 e WHERE e.freelancer_id = f.freelancer_id AND e.skill = ANY(\(context.skills)::text[]) ORDER BY e.skill) AS x_completed,
                   ARRAY(SELECT e.ratings_sum FROM read_models.match_experience_v4 e WHERE e.freelancer_id = f.freelancer_id AND e.skill = ANY(\(context.skills)::text[]) ORDER BY e.skill) AS x_ratings_sum,
                   ARRAY(SELECT e.ratings_n FROM read_models.match_experience_v4 e WHERE e.freelancer_id = f.freelancer_id AND e.skill = ANY(\(context.skills)::text[]) ORDER BY e.skill) AS x_ratings_n
            FROM read_models.match_freelancers_v4 f WHERE f.freelancer_id = \(freelancer)
            """
        ).rows
        guard let row = rows.first else { return nil }
        let levels = Dictionary(
            zip(try row.decode([String].self, "skills"), try row.decode([Int].self, "levels")), uniquingKeysWith: { $1 }
        )
        let facts = try FreelancerFacts(row: row)
        let experience = try Experience.bySkill(row)
        var match = context.match(facts, levels: levels, experience: experience, weights: weights)
        match.explanation = MatchExplanation.lines(
            match, gig: context, freelancer: facts, experience: experience, weights: weights)
        return match
    }

    static func rank(_ all: [Match], k: Int, tieBreak: (Match, Match) -> Bool, weights: Weights) -> [Match] {
        let sorted = all.sorted { $0.score != $1.score ? $0.score > $1.score : tieBreak($0, $1) }
        var top = Array(sorted.prefix(max(0, k)))
        // With k = 1 the best score keeps the only slot; the newcomer slot is the last of k ≥ 2,
        // given when no qualified newcomer made the top k (an unqualified one does not count).
        guard k >= 2, !top.contains(where: weights.qualifiesForNewcomerSlot),
            var newcomer = sorted.dropFirst(top.count).first(where: weights.qualifiesForNewcomerSlot)
        else { return top }
        newcomer.viaNewcomerSlot = true
        top[top.count - 1] = newcomer
        return top
    }

    // MARK: - Scoring (one definition for candidates, feed and explain)

    /// What scoring needs of a freelancer.
    struct FreelancerFacts: Sendable {
        let id: UUID
        let rate: Int64
        let currency: String
        let hours: Int
        let active: Int
        let ratingsSum: Int
        let ratingsN: Int
        let completed: Int
        let failed: Int
        let started: Int
        /// Preferences (none set: nil, empty, empty, nil).
        let minimumBudget: Int64?
        let minimumBudgetCurrency: String?
        let currencies: [String]
        let wantedSkills: [String]
        let maxContracts: Int?

        /// Where each fact is in a result's rows: looked up by name once per result, so decoding
        /// many rows (a search reads hundreds) costs no name lookup per cell.
        struct Columns {
            let id: Int, rate: Int, currency: Int, hours: Int, active: Int, ratingsSum: Int, ratingsN: Int
            let completed: Int, failed: Int, started: Int, minimumBudget: Int, minimumBudgetCurrency: Int
            let currencies: Int, wantedSkills: Int, maxContracts: Int

            init(_ row: Row) throws {
                func at(_ name: String) throws -> Int { try row.layout.index(of: name) }
                id = try at("freelancer_id")
                rate = try at("hourly_rate_minor")
                currency = try at("currency")
                hours = try at("hours_per_week")
                active = try at("active_contracts")
                ratingsSum = try at("ratings_sum")
                ratingsN = try at("ratings_n")
                completed = try at("completed")
                failed = try at("failed")
                started = try at("contracts_started")
                minimumBudget = try at("min_budget_minor")
                minimumBudgetCurrency = try at("min_budget_currency")
                currencies = try at("accepted_currencies")
                wantedSkills = try at("wanted_skills")
                maxContracts = try at("max_contracts")
            }
        }

        init(row: Row) throws { try self.init(row: row, columns: Columns(row)) }

        init(row: Row, columns c: Columns) throws {
            id = try row.decode(UUID.self, at: c.id)
            rate = try row.decode(Int64.self, at: c.rate)
            currency = try row.decode(String.self, at: c.currency)
            hours = try row.decode(Int.self, at: c.hours)
            active = try row.decode(Int.self, at: c.active)
            ratingsSum = try row.decode(Int.self, at: c.ratingsSum)
            ratingsN = try row.decode(Int.self, at: c.ratingsN)
            completed = try row.decode(Int.self, at: c.completed)
            failed = try row.decode(Int.self, at: c.failed)
            started = try row.decode(Int.self, at: c.started)
            minimumBudget = try row.decode(Int64?.self, at: c.minimumBudget)
            minimumBudgetCurrency = try row.decode(String?.self, at: c.minimumBudgetCurrency)
            currencies = try row.decode([String].self, at: c.currencies)
            wantedSkills = try row.decode([String].self, at: c.wantedSkills)
            maxContracts = try row.decode(Int?.self, at: c.maxContracts)
        }

        func availability(_ w: Weights) -> Double {
            hours <= 0 ? 0 : max(0, (Double(hours) - w.hoursPerActiveContract * Double(active)) / Double(hours))
        }

        func reputation(_ w: Weights) -> Double {
            0.5 * Matching.bayesianRating(sum: ratingsSum, n: ratingsN, w)
                + 0.5
                * ((Double(completed) + w.completionAlpha)
                    / (Double(completed + failed) + w.completionAlpha + w.completionBeta))
        }
    }

    /// A freelancer's completed contracts in one skill and the client ratings they got.
    struct Experience: Sendable, Hashable {
        let completed: Int
        let ratingsSum: Int
        let ratingsN: Int

        /// From the columns `x_skills`, `x_completed`, `x_ratings_sum`, `x_ratings_n` of `row`.
        static func bySkill(_ row: Row) throws -> [String: Experience] {
            try bySkill(row, columns: row.layout.index(of: "x_skills"))
        }

        /// From four columns of `row` from `first` on: skills, completed, ratings' sum and count
        /// (``bySkill(_:)``'s, at a position found once per result).
        static func bySkill(_ row: Row, columns first: Int) throws -> [String: Experience] {
            let skills = try row.decode([String].self, at: first)
            let completed = try row.decode([Int].self, at: first + 1)
            let sums = try row.decode([Int].self, at: first + 2)
            let counts = try row.decode([Int].self, at: first + 3)
            var out: [String: Experience] = [:]
            for (i, skill) in skills.enumerated() where i < completed.count && i < sums.count && i < counts.count {
                out[skill] = Experience(completed: completed[i], ratingsSum: sums[i], ratingsN: counts[i])
            }
            return out
        }
    }

    /// What a gig asks for besides its skills.
    struct GigTerms: Sendable {
        let id: UUID
        let currency: String
        let budgetMin: Int64
        let budgetMax: Int64
        let experience: ExperienceLevel
        /// The hours of an hourly gig; nil for a fixed price.
        let hours: Int?

        init(
            id: UUID, currency: String, budgetMin: Int64, budgetMax: Int64, experience: ExperienceLevel, hours: Int?
        ) {
            self.id = id
            self.currency = currency
            self.budgetMin = budgetMin
            self.budgetMax = budgetMax
            self.experience = experience
            self.hours = hours
        }

        /// From the columns `currency`, `budget_min_minor`, `budget_max_minor`, `experience`,
        /// `engagement_hours` of `row`.
        init(id: UUID, row: Row) throws {
            self.id = id
            currency = try row.decode(String.self, "currency")
            budgetMin = try row.decode(Int64.self, "budget_min_minor")
            budgetMax = try row.decode(Int64.self, "budget_max_minor")
            // The projector writes only the domain's levels; an unknown one asks for nothing.
            experience = ExperienceLevel(rawValue: try row.decode(String.self, "experience")) ?? .any
            hours = try row.decode(Int?.self, "engagement_hours")
        }
    }

    /// A gig with the idf of each of its skills (in the gig's order).
    struct GigContext: Sendable {
        let terms: GigTerms
        let skills: [String]
        let idf: [Double]

        var id: UUID { terms.id }

        func match(
            _ f: FreelancerFacts, levels: [String: Int], experience: [String: Experience], weights w: Weights
        ) -> Match {
            Matching.match(
                gig: terms.id, skills: skills, idf: idf, levels: levels, freelancer: f,
                budgetFit: Matching.budgetFit(terms, freelancer: f, weights: w),
                experienceFit: Matching.experienceFit(terms.experience, skills: skills, experience, w),
                preferenceFit: Matching.preferenceFit(terms, skills: skills, freelancer: f).fit, weights: w)
        }
    }

    /// idf(s) = ln((N+1)/(df(s)+1)) + 1.
    static func idf(population: Int, df: Int) -> Double { log((Double(population) + 1) / Double(df + 1)) + 1 }

    /// The Bayesian average of `n` client ratings summing to `sum`, rescaled from 1–5 to 0–1.
    static func bayesianRating(sum: Int, n: Int, _ w: Weights) -> Double {
        ((w.ratingPriorWeight * w.ratingPrior + Double(sum)) / (w.ratingPriorWeight + Double(n)) - 1) / 4
    }

    /// The hours a freelancer's price is computed for: an hourly gig's own, else the typical gig's.
    static func pricedHours(_ gig: GigTerms, _ w: Weights) -> Double { gig.hours.map(Double.init) ?? w.typicalGigHours }

    static func budgetFit(_ gig: GigTerms, freelancer f: FreelancerFacts, weights w: Weights) -> Double {
        budgetFit(gig, rate: f.rate, currency: f.currency, weights: w)
    }

    /// Budget fit of an hourly `rate` (minor units of `currency`) on `gig`.
    static func budgetFit(_ gig: GigTerms, rate: Int64, currency: String, weights w: Weights) -> Double {
        guard currency == gig.currency, gig.budgetMax != 0 else { return 0 }
        let price = Double(rate) * pricedHours(gig, w)
        return Swift.max(
            0, 1 - Swift.max(Double(gig.budgetMin) - price, price - Double(gig.budgetMax), 0) / Double(gig.budgetMax))
    }

    /// 1 for `any` and `entry`; else the mean over the gig's distinct skills of min(1, completed
    /// contracts ÷ the level's target) times (0.5 + 0.5 × their Bayesian average rating).
    static func experienceFit(
        _ level: ExperienceLevel, skills: [String], _ experience: [String: Experience], _ w: Weights
    ) -> Double {
        let target: Double
        switch level {
        case .any, .entry: return 1
        case .intermediate: target = w.intermediateContracts
        case .expert: target = w.expertContracts
        }
        let distinct = Array(Set(skills)).sorted()
        guard !distinct.isEmpty, target > 0 else { return 1 }
        var evidence = 0.0
        var sum = 0
        var n = 0
        for skill in distinct {
            let e = experience[skill] ?? Experience(completed: 0, ratingsSum: 0, ratingsN: 0)
            evidence += Swift.min(1, Double(e.completed) / target)
            sum += e.ratingsSum
            n += e.ratingsN
        }
        return evidence / Double(distinct.count) * (0.5 + 0.5 * bayesianRating(sum: sum, n: n, w))
    }

    /// The four parts of the preference fit (each 1 when no such preference is set) and their mean.
    struct PreferenceParts: Sendable, Hashable {
        let budget: Double
        let currency: Double
        let capacity: Double
        let wanted: Double
        var fit: Double { (budget + currency + capacity + wanted) / 4 }
    }

    static func preferenceFit(_ gig: GigTerms, skills: [String], freelancer f: FreelancerFacts) -> PreferenceParts {
        var budget = 1.0
        if let minimum = f.minimumBudget, minimum > 0 {
            budget =
                f.minimumBudgetCurrency == gig.currency ? Swift.min(1, Double(gig.budgetMax) / Double(minimum)) : 0
        }
        let currency = f.currencies.isEmpty || f.currencies.contains(gig.currency) ? 1.0 : 0
        var capacity = 1.0
        if let limit = f.maxContracts, limit > 0 { capacity = Swift.max(0, Double(limit - f.active) / Double(limit)) }
        let wanted = f.wantedSkills.isEmpty || skills.contains(where: { f.wantedSkills.contains($0) }) ? 1.0 : 0.5
        return PreferenceParts(budget: budget, currency: currency, capacity: capacity, wanted: wanted)
    }

    /// Every component and the score; `skills`/`idf` are the gig's (duplicates count as often as
    /// they appear), `levels` the freelancer's levels on them.
    static func match(
        gig: UUID, skills: [String], idf: [Double], levels: [String: Int], freelancer f: FreelancerFacts,
        budgetFit: Double, experienceFit: Double, preferenceFit: Double, weights w: Weights
    ) -> Match {
        var total = 0.0
        var covered = 0.0
        var matched: [String] = []
        var missing: [String] = []
        for (skill, weight) in zip(skills, idf) {
            total += weight
            if let level = levels[skill] {
                covered += weight * Double(level) / 3.0
                matched.append(skill)
            } else {
                missing.append(skill)
            }
        }
        let coverage = total != 0 ? covered / total : 0
        let availability = f.availability(w)
        let reputation = f.reputation(w)
        let score =
            w.coverage * coverage + w.budget * budgetFit + w.availability * availability + w.reputation * reputation
            + w.experience * experienceFit + w.preference * preferenceFit
        return Match(
            gigID: gig, freelancerID: f.id, score: score, coverage: coverage, budgetFit: budgetFit,
            availability: availability, reputation: reputation, experienceFit: experienceFit,
            preferenceFit: preferenceFit, newcomer: f.started == 0, viaNewcomerSlot: false,
            matchedSkills: matched.sorted(), missingSkills: missing.sorted(), weightsVersion: w.version,
            explanation: nil)
    }

    /// The freelancer's own part of the score, negated: −(w.availability × availability +
    /// w.reputation × reputation). ``MatchingProjector`` stores it as `rank_key` (under
    /// ``MatchingProjector/rankWeights``), so the index order and the score share this definition.
    static func rankKey(_ f: FreelancerFacts, _ w: Weights) -> Double {
        -(w.availability * f.availability(w) + w.reputation * f.reputation(w))
    }

    /// `rank_key` orders candidates by −(availability × w.availability + reputation × w.reputation)
    /// under the projector's weights; the bound holds for any weights agreeing on those parts.
    static func rankKeyFits(_ w: Weights) -> Bool {
        let r = MatchingProjector.rankWeights
        return w.availability == r.availability && w.reputation == r.reputation
            && w.hoursPerActiveContract == r.hoursPerActiveContract
            && w.ratingPrior == r.ratingPrior && w.ratingPriorWeight == r.ratingPriorWeight
            && w.completionAlpha == r.completionAlpha
            && w.completionBeta == r.completionBeta
    }

    /// The gig's terms, skills and their idf. Also sets `plan_cache_mode` to
    /// `force_generic_plan` for the rest of the read's transaction, so the search's prepared
    /// fetch is planned once per connection, not at every round (its custom plans cost 0.5–1 ms
    /// each, and the generic plan is the same index-only scans and nested loops).
    private func gigContext(_ gig: UUID, _ conn: Connection) async throws -> GigContext? {
        guard
            let row = try await conn.query(
                ("""
                SELECT g.currency, g.budget_min_minor, g.budget_max_minor, g.experience, g.engagement_hours, g.skills,
                       ARRAY(SELECT coalesce(d.freelancers, 0) FROM unnest(g.skills) WITH ORDINALITY AS s(skill, n)
                             LEFT JOIN read_models.match_skill_df_v4 d ON d.skill = s.skill ORDER BY s.n) AS df,
                       coalesce((SELECT p.freelancers FROM read_models.match_population_v4 p), 0) AS population
                FROM (SELECT set_config('plan_cache_mode', 'force_generic_plan', true)) AS m(mode)
                CROSS JOIN read_models.match_gigs_v4 g WHERE g.gig_id = \(gig)
                """ as SQL).prepared()
            ).rows.first
        else { return nil }
        let population = try row.decode(Int.self, "population")
        return GigContext(
            terms: try GigTerms(id: gig, row: row), skills: try row.decode([String].self, "skills"),
            idf: try row.decode([Int].self, "df").map { Self.idf(population: population, df: $0) })
    }

    /// Reads the next rows of several lists in `rank_key` order, with the facts and gig-skill
    /// levels of each freelancer read: a (skill, level) list from `match_freelancer_skills_v4`;
    /// a list of two (skill, level) pairs (a request with one ``CandidateSearch/Request/also``)
    /// as one index range of `match_freelancer_skill_pairs_v4`; with a third pair, that range
    /// filtered by the third skill's level.
    private func fetch(
        _ requests: [CandidateSearch.Request], gigSkills: [String], newcomersOnly: Bool, _ conn: Connection
    ) async throws -> [CandidateSearch.Fetched] {
        let filter: SQL = newcomersOnly ? "AND s.newcomer" : ""
        // Per request: its pair (both skills in the projector's byte order), NULL for a single
        // (skill, level) list, and a third (skill, level), NULL where it has none.
        var pairs: [(first: (skill: String, level: Int), second: (skill: String, level: Int))?] = []
        var thirds: [(skill: String, level: Int)?] = []
        for request in requests {
            guard let other = request.also.first else {
                pairs.append(nil)
                thirds.append(nil)
                continue
            }
            let driver = (skill: request.skill, level: request.level)
            pairs.append(
                MatchingProjector.byteOrder(driver.skill, other.skill)
                    ? (first: driver, second: other) : (first: other, second: driver))
            thirds.append(request.also.count > 1 ? request.also[1] : nil)
        }
        func texts(_ values: [String?]) -> PGBind { PGBind.array(values, type: .textArray) }
        func ints(_ values: [Int?]) -> PGBind { PGBind.array(values.map { $0.map { String($0) } }, type: .int4Array) }
        let rows = try await conn.query(
            ("""
            SELECT l.n::int AS n, c.freelancer_id AS listed_id, c.rank_key, f.freelancer_id, f.hourly_rate_minor, f.currency, f.hours_per_week,
                   f.active_contracts, f.ratings_sum, f.ratings_n, f.completed, f.failed, f.contracts_started,
                   f.min_budget_minor, f.min_budget_currency, f.accepted_currencies, f.wanted_skills, f.max_contracts,
                   coalesce(g.skills, '{}') AS skills, coalesce(g.levels, '{}') AS levels,
                   coalesce(x.skills, '{}') AS x_skills, coalesce(x.completed, '{}') AS x_completed,
                   coalesce(x.ratings_sum, '{}') AS x_ratings_sum, coalesce(x.ratings_n, '{}') AS x_ratings_n
            FROM unnest(\(requests.map(\.skill))::text[], \(requests.map { Int32($0.level) })::int4[], \(requests.map(\.afterKey))::float8[],
                        \(requests.map(\.afterID))::uuid[], \(requests.map { Int32(clamping: $0.limit) })::int4[],
                        \(bind: texts(pairs.map { $0?.first.skill }))::text[], \(bind: ints(pairs.map { $0?.first.level }))::int4[],
                        \(bind: texts(pairs.map { $0?.second.skill }))::text[], \(bind: ints(pairs.map { $0?.second.level }))::int4[],
                        \(bind: texts(thirds.map { $0?.skill }))::text[], \(bind: ints(thirds.map { $0?.level }))::int4[])
                 WITH ORDINALITY AS l(skill, level, after_key, after_id, lim, skill1, level1, skill2, level2, skill3, level3, n)
            CROSS JOIN LATERAL (
                (SELECT s.freelancer_id, s.rank_key FROM read_models.match_freelancer_skills_v4 s
                 WHERE l.skill1 IS NULL AND s.skill = l.skill AND s.level = l.level
                   AND (s.rank_key, s.freelancer_id) > (l.after_key, l.after_id) \(filter)
                 ORDER BY s.rank_key, s.freelancer_id LIMIT l.lim)
                UNION ALL
                (SELECT s.freelancer_id, s.rank_key FROM read_models.match_freelancer_skill_pairs_v4 s
                 WHERE l.skill1 IS NOT NULL AND s.skill1 = l.skill1 AND s.level1 = l.level1 AND s.skill2 = l.skill2 AND s.level2 = l.level2
                   AND (s.rank_key, s.freelancer_id) > (l.after_key, l.after_id) \(filter)
                   -- A third skill: a scalar lookup by primary key per row of the pair's range.
                   AND (l.skill3 IS NULL OR (SELECT o.level FROM read_models.match_freelancer_skills_v4 o
                                             WHERE o.freelancer_id = s.freelancer_id AND o.skill = l.skill3) = l.level3)
                 ORDER BY s.rank_key, s.freelancer_id LIMIT l.lim)
            ) c
            LEFT JOIN read_models.match_freelancers_v4 f ON f.freelancer_id = c.freelancer_id
            LEFT JOIN LATERAL (
                SELECT array_agg(x.skill ORDER BY x.skill) AS skills, array_agg(x.level ORDER BY x.skill) AS levels
                FROM read_models.match_freelancer_skills_v4 x WHERE x.freelancer_id = c.freelancer_id AND x.skill = ANY(\(gigSkills)::text[])
            ) g ON true
            LEFT JOIN LATERAL (
                SELECT array_agg(e.skill ORDER BY e.skill) AS skills, array_agg(e.completed ORDER BY e.skill) AS completed,
                       array_agg(e.ratings_sum ORDER BY e.skill) AS ratings_sum, array_agg(e.ratings_n ORDER BY e.skill) AS ratings_n
                FROM read_models.match_experience_v4 e WHERE e.freelancer_id = c.freelancer_id AND e.skill = ANY(\(gigSkills)::text[])
            ) x ON true
            ORDER BY l.n, c.rank_key, c.freelancer_id
            """ as SQL).prepared()
        ).rows
        guard let first = rows.first else { return [] }
        // Positions resolved once: the rows are decoded by index (columns as selected above).
        let columns = try FreelancerFacts.Columns(first)
        let layout = first.layout
        let (n, listed, key) = (
            try layout.index(of: "n"), try layout.index(of: "listed_id"), try layout.index(of: "rank_key")
        )
        let (skills, levels) = (try layout.index(of: "skills"), try layout.index(of: "levels"))
        let experience = try layout.index(of: "x_skills")
        return try rows.map { row in
            let facts: FreelancerFacts? =
                row.isNull(at: columns.id) ? nil : try FreelancerFacts(row: row, columns: columns)
            return CandidateSearch.Fetched(
                request: try row.decode(Int.self, at: n) - 1, id: try row.decode(UUID.self, at: listed),
                key: try row.decode(Double.self, at: key), facts: facts,
                levels: Dictionary(
                    zip(try row.decode([String].self, at: skills), try row.decode([Int].self, at: levels)),
                    uniquingKeysWith: { $1 }),
                experience: try Experience.bySkill(row, columns: experience))
        }
    }
}
