import EventStore
import Foundation
import PQ

/// Scores how well a freelancer fits a gig, explained component by component (sql/READ_MODELS.md):
///
/// - **skill coverage**: Σ over the gig's skills the freelancer has of idf(s) × level/3, divided
///   by Σ idf(s) over the gig's skills, with idf(s) = ln((N+1)/(df(s)+1)) + 1 over registered
///   freelancers, so a niche skill counts more than a common one;
/// - **budget fit**: the freelancer's typical price (hourly rate × ``Weights/typicalGigHours``)
///   against the gig's budget: 1 inside it, falling linearly to 0 at one budget-max away; 0 in
///   another currency (currencies are never converted);
/// - **availability**: free hours (hours per week − ``Weights/hoursPerActiveContract`` per active
///   contract) ÷ hours per week, 0 at capacity;
/// - **reputation**: half the Bayesian average rating ((C·m + Σ ratings) ÷ (C + n), rescaled
///   from 1–5 to 0–1) and half the Bayesian completion rate ((completed + α) ÷ (ended + α + β)),
///   so a newcomer starts at the prior, not at zero.
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
/// Reads the version-2 tables of ``MatchingProjector`` (idf from maintained document
/// frequencies; candidates and feeds read a few hundred rows in bound order instead of scoring
/// everyone, with the same results — `MatchingSearchTests` checks them against the version-1
/// query). Each call reads one snapshot.
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

        /// Weights version 1.
        public static let v1 = Weights(
            version: 1, coverage: 0.5, budget: 0.2, availability: 0.1, reputation: 0.2, typicalGigHours: 40,
            hoursPerActiveContract: 10, ratingPrior: 4, ratingPriorWeight: 5, completionAlpha: 2, completionBeta: 1,
            newcomerMinimumCoverage: 0.25)

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
        /// The weighted sum of the four components (0…1 when the weights sum to 1, as
        /// ``Weights/v1``'s do).
        public var score: Double
        /// Skill coverage, 0…1.
        public var coverage: Double
        /// Budget fit, 0…1 (0 in another currency).
        public var budgetFit: Double
        /// Availability, 0…1 (0 at capacity).
        public var availability: Double
        /// Reputation, 0…1.
        public var reputation: Double
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

        enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case freelancerID = "freelancerId"
            case score, coverage, budgetFit, availability, reputation,
                newcomer, viaNewcomerSlot, matchedSkills, missingSkills, weightsVersion
        }

        /// Scores and components rounded to the published 4 decimals.
        func published() -> Match {
            var m = self
            m.score = rounded(score, places: 4)
            m.coverage = rounded(coverage, places: 4)
            m.budgetFit = rounded(budgetFit, places: 4)
            m.availability = rounded(availability, places: 4)
            m.reputation = rounded(reputation, places: 4)
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
        /// Rows per (skill, level) list in the first round; nil: max(2k, k + 16).
        var firstRead: Int?
        /// Skill-set groups per round of a feed.
        var groupsPerRound = 16
    }

    /// Queries over the matching read model in the database behind `pool`, scoring with `weights`.
    /// With weights that differ from ``MatchingProjector/rankWeights`` in the availability or
    /// reputation parts (weights or parameters) the queries stay exact but score every candidate.
    public init(pool: ConnectionPool, weights: Weights = .v1) {
        self.pool = pool
        self.weights = weights
    }

    /// The best `k` freelancers for `gig` (only freelancers with at least one of its skills).
    ///
    /// Candidates are read per (skill, level) in `rank_key` order (the freelancer's own part of
    /// the score, best first), a few dozen rows per list and round; each row read is scored
    /// exactly. Reading stops when no unread freelancer can reach the k-th score (ties by id):
    /// for every combination of levels on the gig's skills, its coverage plus a full budget fit
    /// plus the best unread freelancer's own part stays below it. The newcomer slot searches the
    /// newcomers' lists the same way. Results equal scoring every candidate.
    public func candidates(forGig gig: UUID, k: Int = 10) async throws -> Snapshot<[Match]> {
        let (matches, checkpoints) = try await ReadModels.read(pool, Self.projections) { conn in
            try await candidates(gig, k: k, conn).map { $0.published() }
        }
        return Snapshot(data: matches, checkpoints: checkpoints)
    }

    private func candidates(_ gig: UUID, k: Int, _ conn: Connection) async throws -> [Match] {
        guard k > 0, let context = try await gigContext(gig, conn) else { return [] }
        let fetch: CandidateSearch.Fetch = { try await self.fetch($0, gigSkills: $1, newcomersOnly: $2, conn) }
        var search = CandidateSearch(
            gig: context, weights: weights, exhaustive: !Self.rankKeyFits(weights), firstRead: tuning.firstRead)
        try await search.run(k: k, newcomersOnly: false, qualifies: { _ in true }, fetch: fetch)
        let byID: (Match, Match) -> Bool = { $0.freelancerID.uuidString < $1.freelancerID.uuidString }
        let top = Self.rank(Array(search.scored.values), k: k, tieBreak: byID, weights: weights)
        let w = weights
        guard k >= 2, !top.contains(where: w.qualifiesForNewcomerSlot) else { return top }
        try await search.run(k: 1, newcomersOnly: true, qualifies: w.qualifiesForNewcomerSlot, fetch: fetch)
        return Self.rank(Array(search.scored.values), k: k, tieBreak: byID, weights: weights)
    }

    /// The best `k` open gigs for `freelancer` (open gigs sharing at least one of its skills).
    ///
    /// Open gigs are grouped by skill set (`match_open_skill_sets_v2`): within a group every gig
    /// has the same coverage, so groups are visited best bound first and, in each, only the `k`
    /// gigs with the best budget fit are read; visiting stops when a group's bound (a full budget
    /// fit) falls below the k-th score.
    public func feed(forFreelancer freelancer: UUID, k: Int = 10) async throws -> Snapshot<[Match]> {
        let (matches, checkpoints) = try await ReadModels.read(pool, Self.projections) { conn in
            k > 0 ? try await feed(freelancer, k: k, conn).map { $0.published() } : []
        }
        return Snapshot(data: matches, checkpoints: checkpoints)
    }

    private func feed(_ freelancer: UUID, k: Int, _ conn: Connection) async throws -> [Match] {
        let w = weights
        let rows = try await conn.query(
            """
            SELECT f.freelancer_id, f.hourly_rate_minor, f.currency, f.hours_per_week, f.active_contracts, f.ratings_sum, f.ratings_n,
                   f.completed, f.failed, f.contracts_started,
                   ARRAY(SELECT s.skill FROM read_models.match_freelancer_skills_v2 s WHERE s.freelancer_id = f.freelancer_id ORDER BY s.skill) AS skills,
                   ARRAY(SELECT s.level FROM read_models.match_freelancer_skills_v2 s WHERE s.freelancer_id = f.freelancer_id ORDER BY s.skill) AS levels,
                   coalesce((SELECT p.freelancers FROM read_models.match_population_v2 p), 0) AS population,
                   ARRAY(SELECT d.skill FROM read_models.match_skill_df_v2 d ORDER BY d.skill) AS df_skills,
                   ARRAY(SELECT d.freelancers FROM read_models.match_skill_df_v2 d ORDER BY d.skill) AS df
            FROM read_models.match_freelancers_v2 f WHERE f.freelancer_id = \(freelancer)
            """
        ).rows
        guard let row = rows.first else { return [] }
        let me = try FreelancerFacts(row: row)
        let skills = try row.decode([String].self, "skills")
        let levels = try row.decode([Int].self, "levels")
        guard !skills.isEmpty else { return [] }
        let mine = Dictionary(zip(skills, levels), uniquingKeysWith: { $1 })
        let population = try row.decode(Int.self, "population")
        let df = Dictionary(
            zip(try row.decode([String].self, "df_skills"), try row.decode([Int].self, "df")), uniquingKeysWith: { $1 })
        struct Group {
            let key: String
            let skills: [String]
            let idf: [Double]
            let bound: Double
        }
        var groups: [Group] = []
        for set in try await conn.query(
            """
            SELECT skill_set, skills FROM read_models.match_open_skill_sets_v2 WHERE open_gigs > 0 AND skills && \(skills)::text[]
            """
        ).rows {
            let gigSkills = try set.decode([String].self, at: 1)
            let idf = gigSkills.map { Self.idf(population: population, df: df[$0] ?? 0) }
            let bound = Self.match(
                gig: UUID(), currency: me.currency, budgetFit: 1, skills: gigSkills, idf: idf, levels: mine,
                freelancer: me, weights: w
            ).score
            groups.append(Group(key: try set.decode(String.self, at: 0), skills: gigSkills, idf: idf, bound: bound))
        }
        groups.sort { $0.bound != $1.bound ? $0.bound > $1.bound : $0.key < $1.key }
        let order: (Match, Match) -> Bool = {
            $0.score != $1.score ? $0.score > $1.score : $0.gigID.uuidString < $1.gigID.uuidString
        }
        var best: [Match] = []
        var next = 0
        while next < groups.count {
            if best.count >= k, groups[next].bound < best[k - 1].score { break }
            let chunk = Array(groups[next..<min(groups.count, next + max(1, tuning.groupsPerRound))])
            next += chunk.count
            for gigRow in try await conn.query(
                """
                SELECT g.n::int AS n, x.gig_id, x.currency, x.budget_min_minor, x.budget_max_minor
                FROM unnest(\(chunk.map(\.key))::text[]) WITH ORDINALITY AS g(skill_set, n)
                CROSS JOIN LATERAL (
                    -- Ordered by ``budgetFit`` (the same expression, for the order only: the value
                    -- is computed in Swift from the row).
                    SELECT o.gig_id, o.currency, o.budget_min_minor, o.budget_max_minor,
                           coalesce(CASE WHEN o.currency <> \(me.currency) THEN 0
                                ELSE greatest(0, 1 - greatest(o.budget_min_minor - \(me.rate) * \(w.typicalGigHours),
                                                               \(me.rate) * \(w.typicalGigHours) - o.budget_max_minor, 0)
                                                  / nullif(o.budget_max_minor, 0)::float8) END, 0) AS budget_fit
                    FROM read_models.match_gigs_v2 o WHERE o.skill_set = g.skill_set AND o.status = 'open'
                    ORDER BY budget_fit DESC, o.gig_id LIMIT \(k)
                ) x
                """
            ).rows {
                let group = chunk[try gigRow.decode(Int.self, "n") - 1]
                let budgetFit = Self.budgetFit(
                    currency: try gigRow.decode(String.self, "currency"),
                    min: try gigRow.decode(Int64.self, "budget_min_minor"),
                    max: try gigRow.decode(Int64.self, "budget_max_minor"), freelancer: me, weights: w)
                best.append(
                    Self.match(
                        gig: try gigRow.decode(UUID.self, "gig_id"), currency: me.currency, budgetFit: budgetFit,
                        skills: group.skills, idf: group.idf, levels: mine, freelancer: me, weights: w))
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
                   f.completed, f.failed, f.contracts_started,
                   ARRAY(SELECT s.skill FROM read_models.match_freelancer_skills_v2 s WHERE s.freelancer_id = f.freelancer_id AND s.skill = ANY(\(context.skills)::text[]) ORDER BY s.skill) AS skills,
                   ARRAY(SELECT s.level FROM read_models.match_freelancer_skills_v2 s WHERE s.freelancer_id = f.freelancer_id AND s.skill = ANY(\(context.skills)::text[]) ORDER BY s.skill) AS levels
            FROM read_models.match_freelancers_v2 f WHERE f.freelancer_id = \(freelancer)
            """
        ).rows
        guard let row = rows.first else { return nil }
        let levels = Dictionary(
            zip(try row.decode([String].self, "skills"), try row.decode([Int].self, "levels")), uniquingKeysWith: { $1 }
        )
        return context.match(try FreelancerFacts(row: row), levels: levels, weights: weights)
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

        init(row: Row) throws {
            id = try row.decode(UUID.self, "freelancer_id")
            rate = try row.decode(Int64.self, "hourly_rate_minor")
            currency = try row.decode(String.self, "currency")
            hours = try row.decode(Int.self, "hours_per_week")
            active = try row.decode(Int.self, "active_contracts")
            ratingsSum = try row.decode(Int.self, "ratings_sum")
            ratingsN = try row.decode(Int.self, "ratings_n")
            completed = try row.decode(Int.self, "completed")
            failed = try row.decode(Int.self, "failed")
            started = try row.decode(Int.self, "contracts_started")
        }

        func availability(_ w: Weights) -> Double {
            hours <= 0 ? 0 : max(0, (Double(hours) - w.hoursPerActiveContract * Double(active)) / Double(hours))
        }

        func reputation(_ w: Weights) -> Double {
            0.5
                * (((w.ratingPriorWeight * w.ratingPrior + Double(ratingsSum))
                    / (w.ratingPriorWeight + Double(ratingsN)) - 1) / 4)
                + 0.5
                * ((Double(completed) + w.completionAlpha)
                    / (Double(completed + failed) + w.completionAlpha + w.completionBeta))
        }
    }

    /// A gig with the idf of each of its skills (in the gig's order).
    struct GigContext: Sendable {
        let id: UUID
        let currency: String
        let budgetMin: Int64
        let budgetMax: Int64
        let skills: [String]
        let idf: [Double]

        func budgetFit(_ f: FreelancerFacts, _ w: Weights) -> Double {
            Matching.budgetFit(currency: currency, min: budgetMin, max: budgetMax, freelancer: f, weights: w)
        }

        func match(_ f: FreelancerFacts, levels: [String: Int], weights: Weights) -> Match {
            Matching.match(
                gig: id, currency: currency, budgetFit: budgetFit(f, weights), skills: skills, idf: idf, levels: levels,
                freelancer: f, weights: weights)
        }
    }

    /// idf(s) = ln((N+1)/(df(s)+1)) + 1.
    static func idf(population: Int, df: Int) -> Double { log((Double(population) + 1) / Double(df + 1)) + 1 }

    static func budgetFit(currency: String, min: Int64, max: Int64, freelancer f: FreelancerFacts, weights w: Weights)
        -> Double
    {
        guard f.currency == currency, max != 0 else { return 0 }
        let price = Double(f.rate) * w.typicalGigHours
        return Swift.max(0, 1 - Swift.max(Double(min) - price, price - Double(max), 0) / Double(max))
    }

    /// Every component and the score; `skills`/`idf` are the gig's (duplicates count as often as
    /// they appear), `levels` the freelancer's levels on them.
    static func match(
        gig: UUID, currency: String, budgetFit: Double, skills: [String], idf: [Double], levels: [String: Int],
        freelancer f: FreelancerFacts, weights w: Weights
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
        return Match(
            gigID: gig, freelancerID: f.id, score: score, coverage: coverage, budgetFit: budgetFit,
            availability: availability,
            reputation: reputation, newcomer: f.started == 0, viaNewcomerSlot: false, matchedSkills: matched.sorted(),
            missingSkills: missing.sorted(), weightsVersion: w.version)
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

    private func gigContext(_ gig: UUID, _ conn: Connection) async throws -> GigContext? {
        guard
            let row = try await conn.query(
                """
                SELECT g.currency, g.budget_min_minor, g.budget_max_minor, g.skills,
                       ARRAY(SELECT coalesce(d.freelancers, 0) FROM unnest(g.skills) WITH ORDINALITY AS s(skill, n)
                             LEFT JOIN read_models.match_skill_df_v2 d ON d.skill = s.skill ORDER BY s.n) AS df,
                       coalesce((SELECT p.freelancers FROM read_models.match_population_v2 p), 0) AS population
                FROM read_models.match_gigs_v2 g WHERE g.gig_id = \(gig)
                """
            ).rows.first
        else { return nil }
        let population = try row.decode(Int.self, "population")
        return GigContext(
            id: gig, currency: try row.decode(String.self, "currency"),
            budgetMin: try row.decode(Int64.self, "budget_min_minor"),
            budgetMax: try row.decode(Int64.self, "budget_max_minor"), skills: try row.decode([String].self, "skills"),
            idf: try row.decode([Int].self, "df").map { Self.idf(population: population, df: $0) })
    }

    /// Reads the next rows of several (skill, level) lists in `rank_key` order, with the facts
    /// and gig-skill levels of each freelancer read.
    private func fetch(
        _ requests: [CandidateSearch.Request], gigSkills: [String], newcomersOnly: Bool, _ conn: Connection
    ) async throws -> [CandidateSearch.Fetched] {
        let filter: SQL = newcomersOnly ? "AND s.newcomer" : ""
        // The i-th extra (skill, level) each request requires, NULL where it has none.
        func also(_ i: Int, _ part: KeyPath<(skill: String, level: Int), String>) -> PGBind {
            PGBind.array(requests.map { $0.also.count > i ? $0.also[i][keyPath: part] : nil }, type: .textArray)
        }
        func also(_ i: Int, _ part: KeyPath<(skill: String, level: Int), Int>) -> PGBind {
            PGBind.array(requests.map { $0.also.count > i ? String($0.also[i][keyPath: part]) : nil }, type: .int4Array)
        }
        let rows = try await conn.query(
            """
            SELECT l.n::int AS n, c.freelancer_id AS listed_id, c.rank_key, f.freelancer_id, f.hourly_rate_minor, f.currency, f.hours_per_week,
                   f.active_contracts, f.ratings_sum, f.ratings_n, f.completed, f.failed, f.contracts_started,
                   coalesce(g.skills, '{}') AS skills, coalesce(g.levels, '{}') AS levels
            FROM unnest(\(requests.map(\.skill))::text[], \(requests.map { Int32($0.level) })::int4[], \(requests.map(\.afterKey))::float8[],
                        \(requests.map(\.afterID))::uuid[], \(requests.map { Int32(clamping: $0.limit) })::int4[],
                        \(bind: also(0, \.skill))::text[], \(bind: also(0, \.level))::int4[], \(bind: also(1, \.skill))::text[], \(bind: also(1, \.level))::int4[])
                 WITH ORDINALITY AS l(skill, level, after_key, after_id, lim, skill1, level1, skill2, level2, n)
            CROSS JOIN LATERAL (
                SELECT s.freelancer_id, s.rank_key FROM read_models.match_freelancer_skills_v2 s
                WHERE s.skill = l.skill AND s.level = l.level AND (s.rank_key, s.freelancer_id) > (l.after_key, l.after_id) \(filter)
                  -- (Scalar lookups by primary key, row by row: a hashed EXISTS would read the whole other list.)
                  AND (l.skill1 IS NULL OR (SELECT o.level FROM read_models.match_freelancer_skills_v2 o
                                            WHERE o.freelancer_id = s.freelancer_id AND o.skill = l.skill1) = l.level1)
                  AND (l.skill2 IS NULL OR (SELECT o.level FROM read_models.match_freelancer_skills_v2 o
                                            WHERE o.freelancer_id = s.freelancer_id AND o.skill = l.skill2) = l.level2)
                ORDER BY s.rank_key, s.freelancer_id LIMIT l.lim
            ) c
            LEFT JOIN read_models.match_freelancers_v2 f ON f.freelancer_id = c.freelancer_id
            LEFT JOIN LATERAL (
                SELECT array_agg(x.skill ORDER BY x.skill) AS skills, array_agg(x.level ORDER BY x.skill) AS levels
                FROM read_models.match_freelancer_skills_v2 x WHERE x.freelancer_id = c.freelancer_id AND x.skill = ANY(\(gigSkills)::text[])
            ) g ON true
            ORDER BY l.n, c.rank_key, c.freelancer_id
            """
        ).rows
        return try rows.map { row in
            let facts: FreelancerFacts? = row.isNull(at: 3) ? nil : try FreelancerFacts(row: row)
            return CandidateSearch.Fetched(
                request: try row.decode(Int.self, "n") - 1, id: try row.decode(UUID.self, "listed_id"),
                key: try row.decode(Double.self, "rank_key"), facts: facts,
                levels: Dictionary(
                    zip(try row.decode([String].self, "skills"), try row.decode([Int].self, "levels")),
                    uniquingKeysWith: { $1 }))
        }
    }
}
