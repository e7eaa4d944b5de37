import EventStore
import Foundation
import PQ

/// Scores how well a freelancer fits a gig, explained component by component (DOMAIN.md):
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
/// Score = the weighted sum (weights are versioned); ties broken by freelancer id (gig id for a
/// feed). The fairness re-rank keeps one top-k slot for the best *qualified newcomer* (no
/// contract yet, coverage ≥ ``Weights/newcomerMinimumCoverage``, budget fit > 0) when none made
/// the top k (k ≥ 2) on score alone: the last slot goes to it.
public struct Matching: Sendable {
    public struct Weights: Sendable, Hashable, Codable {
        public var version: Int
        public var coverage: Double
        public var budget: Double
        public var availability: Double
        public var reputation: Double
        public var typicalGigHours: Double
        public var hoursPerActiveContract: Double
        public var ratingPrior: Double
        public var ratingPriorWeight: Double
        public var completionAlpha: Double
        public var completionBeta: Double
        public var newcomerMinimumCoverage: Double

        /// Weights version 1.
        public static let v1 = Weights(
            version: 1, coverage: 0.5, budget: 0.2, availability: 0.1, reputation: 0.2, typicalGigHours: 40,
            hoursPerActiveContract: 10, ratingPrior: 4, ratingPriorWeight: 5, completionAlpha: 2, completionBeta: 1,
            newcomerMinimumCoverage: 0.25)
    }

    /// One scored pair, with every component.
    public struct Match: Sendable, Hashable, Codable {
        public let gigID: UUID
        public let freelancerID: UUID
        public let score: Double
        public let coverage: Double
        public let budgetFit: Double
        public let availability: Double
        public let reputation: Double
        public let newcomer: Bool
        /// Put in the top k by the newcomer slot rather than by score.
        public var viaNewcomerSlot: Bool
        public let matchedSkills: [String]
        public let missingSkills: [String]
        public let weightsVersion: Int
    }

    public let pool: ConnectionPool
    public let weights: Weights

    public init(pool: ConnectionPool, weights: Weights = .v1) {
        self.pool = pool
        self.weights = weights
    }

    /// The best `k` freelancers for `gig` (only freelancers with at least one of its skills).
    public func candidates(forGig gig: UUID, k: Int = 10) async throws -> [Match] {
        let all = try await score(gig: gig, freelancer: nil)
        return Self.rank(all, k: k, tieBreak: { $0.freelancerID.uuidString < $1.freelancerID.uuidString }, weights: weights)
    }

    /// The best `k` open gigs for `freelancer`.
    public func feed(forFreelancer freelancer: UUID, k: Int = 10) async throws -> [Match] {
        let gigs = try await pool.query("""
            SELECT g.gig_id FROM read_models.match_gigs_v1 g
            WHERE g.status = 'open' AND g.skills && ARRAY(SELECT skill FROM read_models.match_freelancer_skills_v1 WHERE freelancer_id = \(freelancer))
            """).rows.map { try $0.decode(UUID.self, at: 0) }
        var matches: [Match] = []
        for gig in gigs { matches += try await score(gig: gig, freelancer: freelancer) }
        return Array(matches.sorted { ($0.score, $1.gigID.uuidString) > ($1.score, $0.gigID.uuidString) }.prefix(max(0, k)))
    }

    /// Every component of `freelancer` against `gig`, with matched and missing skills.
    public func explain(gig: UUID, freelancer: UUID) async throws -> Match? {
        try await score(gig: gig, freelancer: freelancer, includeNonMatching: true).first
    }

    static func rank(_ all: [Match], k: Int, tieBreak: (Match, Match) -> Bool, weights: Weights) -> [Match] {
        let sorted = all.sorted { $0.score != $1.score ? $0.score > $1.score : tieBreak($0, $1) }
        var top = Array(sorted.prefix(max(0, k)))
        // With k = 1 the best score keeps the only slot; the newcomer slot is the last of k ≥ 2.
        guard k >= 2, !top.contains(where: \.newcomer),
              var newcomer = sorted.dropFirst(top.count).first(where: { $0.newcomer && $0.coverage >= weights.newcomerMinimumCoverage && $0.budgetFit > 0 })
        else { return top }
        newcomer.viaNewcomerSlot = true
        top[top.count - 1] = newcomer
        return top
    }

    private func score(gig: UUID, freelancer: UUID?, includeNonMatching: Bool = false) async throws -> [Match] {
        let w = weights
        let rows = try await pool.query("""
            WITH gig AS (SELECT * FROM read_models.match_gigs_v1 WHERE gig_id = \(gig)),
            population AS (SELECT count(*)::float8 AS n FROM read_models.match_freelancers_v1),
            need AS (
                SELECT s.skill, ln((p.n + 1) / ((SELECT count(*) FROM read_models.match_freelancer_skills_v1 fs WHERE fs.skill = s.skill) + 1)) + 1 AS idf
                FROM gig, unnest(gig.skills) AS s(skill), population p
            ),
            total AS (SELECT sum(idf) AS total FROM need),
            pool AS (
                SELECT f.* FROM read_models.match_freelancers_v1 f
                WHERE (\(freelancer)::uuid IS NULL OR f.freelancer_id = \(freelancer)::uuid)
                  AND (\(includeNonMatching) OR EXISTS (SELECT 1 FROM read_models.match_freelancer_skills_v1 fs JOIN need USING (skill) WHERE fs.freelancer_id = f.freelancer_id))
            )
            SELECT f.freelancer_id,
                   coalesce((SELECT sum(need.idf * fs.level / 3.0) FROM read_models.match_freelancer_skills_v1 fs JOIN need USING (skill)
                             WHERE fs.freelancer_id = f.freelancer_id), 0) / nullif(total.total, 0) AS coverage,
                   CASE WHEN f.currency <> gig.currency THEN 0
                        ELSE greatest(0, 1 - greatest(gig.budget_min_minor - f.hourly_rate_minor * \(w.typicalGigHours),
                                                       f.hourly_rate_minor * \(w.typicalGigHours) - gig.budget_max_minor, 0)
                                          / nullif(gig.budget_max_minor, 0)::float8) END AS budget_fit,
                   CASE WHEN f.hours_per_week <= 0 THEN 0
                        ELSE greatest(0, (f.hours_per_week - \(w.hoursPerActiveContract) * f.active_contracts) / f.hours_per_week::float8) END AS availability,
                   0.5 * (((\(w.ratingPriorWeight) * \(w.ratingPrior) + f.ratings_sum) / (\(w.ratingPriorWeight) + f.ratings_n) - 1) / 4)
                     + 0.5 * ((f.completed + \(w.completionAlpha)) / (f.completed + f.failed + \(w.completionAlpha) + \(w.completionBeta))) AS reputation,
                   f.contracts_started = 0 AS newcomer,
                   ARRAY(SELECT need.skill FROM need JOIN read_models.match_freelancer_skills_v1 fs ON fs.skill = need.skill AND fs.freelancer_id = f.freelancer_id ORDER BY 1) AS matched,
                   ARRAY(SELECT need.skill FROM need WHERE NOT EXISTS (SELECT 1 FROM read_models.match_freelancer_skills_v1 fs WHERE fs.skill = need.skill AND fs.freelancer_id = f.freelancer_id) ORDER BY 1) AS missing
            FROM pool f, gig, total
            """)
        return try rows.rows.map { row in
            let coverage = try row.decode(Double?.self, "coverage") ?? 0
            let budget = try row.decode(Double.self, "budget_fit")
            let availability = try row.decode(Double.self, "availability")
            let reputation = try row.decode(Double.self, "reputation")
            let score = w.coverage * coverage + w.budget * budget + w.availability * availability + w.reputation * reputation
            return Match(gigID: gig, freelancerID: try row.decode(UUID.self, "freelancer_id"), score: score, coverage: coverage, budgetFit: budget,
                         availability: availability, reputation: reputation, newcomer: try row.decode(Bool.self, "newcomer"), viaNewcomerSlot: false,
                         matchedSkills: try row.decode([String].self, "matched"), missingSkills: try row.decode([String].self, "missing"),
                         weightsVersion: w.version)
        }
    }
}
