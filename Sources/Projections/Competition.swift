import EventStore
import Foundation
import PQ

/// Queries over the competition read models (`competition_gigs_v1`, `competition_skill_weeks_v1`;
/// sql/READ_MODELS.md has every formula). Each call reads one snapshot and says which
/// checkpoints it reflects.
public struct Competition: Sendable {
    /// Where the read models are read.
    public let pool: ConnectionPool

    /// Queries over the read models in the database behind `pool`.
    public init(pool: ConnectionPool) { self.pool = pool }

    /// How crowded one gig is.
    public struct Gig: Sendable, Codable, Hashable {
        /// `open`; `awarded` (also once an awarded gig is closed as filled); `closed` (cancelled
        /// or expired without an award).
        public enum Status: String, Sendable, Codable, Hashable {
            case open, awarded, closed
        }
        /// The gig.
        @LowercaseUUID public var gigID: UUID
        /// Where the gig stands, by the events applied.
        public let status: Status
        /// ISO 4217; every amount of this object is in minor units of it.
        public let currency: String
        /// The gig's budget minimum, in minor units.
        public let budgetMinMinor: Int64
        /// The gig's budget maximum, in minor units.
        public let budgetMaxMinor: Int64
        /// The gig's skill slugs, as posted.
        public let skills: [String]
        /// The gig's business time of posting.
        @RFC3339Time public var postedAt: Date
        /// Bids ever placed (withdrawn, declined and lapsed ones included).
        public let bidsTotal: Int
        /// Bids still live: not withdrawn, declined, or lapsed by the award or closing.
        public let bidsLive: Int
        /// Distinct freelancers who ever bid on it.
        public let uniqueBidders: Int
        /// When the first bid was placed; `null` without bids.
        @NullableRFC3339Time public var firstBidAt: Date?
        /// Over every bid's latest amount; `null` below 5 bids (withheld).
        @NullEncoded public var minBidMinor: Int64?
        /// 1 decimal; `null` below 5 bids (withheld).
        @NullEncoded public var medianBidMinor: Double?
        /// `null` below 5 bids (withheld).
        @NullEncoded public var maxBidMinor: Int64?
        /// Median bid ÷ budget max, 4 decimals; `null` below 5 bids (withheld).
        @NullEncoded public var medianToBudgetMax: Double?
        /// The public size of the competition: `<5`, `5-10`, `10-15`, `15-20`, `20-50`, `50+`.
        public let bucket: String

        enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case status, currency, budgetMinMinor, budgetMaxMinor, skills, postedAt, bidsTotal,
                bidsLive, uniqueBidders, firstBidAt, minBidMinor, medianBidMinor, maxBidMinor, medianToBudgetMax,
                bucket
        }
    }

    /// Competition for one skill in one ISO week (a cohort: the gigs posted that week).
    public struct SkillWeek: Sendable, Codable, Hashable {
        /// The skill slug.
        public let skill: String
        /// `2026-W47`.
        public let isoWeek: String
        /// Monday 00:00 UTC of that week.
        @RFC3339Time public var weekStart: Date
        /// Gigs posted that week that ask for the skill.
        public let gigsPosted: Int
        /// Bids ever placed on those gigs (withdrawn and declined included).
        public let bids: Int
        /// bids ÷ gigs posted, 2 decimals.
        public let bidsPerGig: Double
        /// Gigs of the cohort that have received no bid (so far).
        public let gigsWithNoBids: Int
        /// Of those gigs, how many were awarded.
        public let contractsStarted: Int
        /// contracts started ÷ gigs posted, 4 decimals.
        public let fillRate: Double
        /// Freelancers offering the skill at the end of the week.
        public let supply: Int
        /// gigs posted ÷ supply, 4 decimals; `null` without supply.
        @NullEncoded public var demandToSupply: Double?
        /// contracts started ÷ bids, 4 decimals; `null` without bids.
        @NullEncoded public var winRate: Double?
    }

    static let gigProjections: [any Projector] = [CompetitionByGigProjector()]
    static let skillProjections: [any Projector] = [CompetitionByGigProjector(), CompetitionBySkillProjector()]

    /// The competition on `gig`, or nil when the read model has no such gig.
    public func gig(_ gig: UUID) async throws -> Snapshot<Gig>? {
        let (found, checkpoints) = try await ReadModels.read(pool, Self.gigProjections) { conn in
            try await conn.query(
                """
                SELECT gig_id, status, currency, budget_min_minor, budget_max_minor, skills, posted_at, bids_total, bids_live,
                       unique_bidders, first_bid_at, min_bid_minor, median_bid_minor::float8 AS median, max_bid_minor,
                       median_to_budget_max::float8 AS ratio, bucket
                FROM read_models.competition_gigs_v1 WHERE gig_id = \(gig)
                """
            ).rows.first.map { r in
                Gig(
                    gigID: try r.decode(UUID.self, "gig_id"),
                    status: Gig.Status(rawValue: try r.decode(String.self, "status")) ?? .closed,
                    currency: try r.decode(String.self, "currency"),
                    budgetMinMinor: try r.decode(Int64.self, "budget_min_minor"),
                    budgetMaxMinor: try r.decode(Int64.self, "budget_max_minor"),
                    skills: try r.decode([String].self, "skills"), postedAt: try r.decode(Date.self, "posted_at"),
                    bidsTotal: try r.decode(Int.self, "bids_total"), bidsLive: try r.decode(Int.self, "bids_live"),
                    uniqueBidders: try r.decode(Int.self, "unique_bidders"),
                    firstBidAt: try r.decode(Date?.self, "first_bid_at"),
                    minBidMinor: try r.decode(Int64?.self, "min_bid_minor"),
                    medianBidMinor: try r.decode(Double?.self, "median").map { rounded($0, places: 1) },
                    maxBidMinor: try r.decode(Int64?.self, "max_bid_minor"),
                    medianToBudgetMax: try r.decode(Double?.self, "ratio").map { rounded($0, places: 4) },
                    bucket: try r.decode(String.self, "bucket"))
            }
        }
        return found.map { Snapshot(data: $0, checkpoints: checkpoints) }
    }

    /// Per skill and ISO week, the `weeks` most recent weeks that have gigs (optionally for one
    /// `skill`): newest week first, then most gigs posted, then skill. Pages of `limit`; pass a
    /// page's `nextCursor` as `after` for the next.
    public func skillWeeks(skill: String? = nil, weeks: Int = 4, limit: Int = 200, after: String? = nil)
        async throws -> Page<SkillWeek>
    {
        try ReadModels.validate(limit: limit)
        guard (1...520).contains(weeks) else {
            throw ReadQueryError.invalidArgument("weeks must be 1…520; got \(weeks).")
        }
        let key = try ReadModels.key(after, [.time, .integer, .text])
        let (rows, checkpoints) = try await ReadModels.read(pool, Self.skillProjections) { conn in
            try await conn.query(
                """
                WITH recent AS (
                    SELECT DISTINCT week_start FROM read_models.competition_skill_weeks_v1
                    WHERE (\(skill)::text IS NULL OR skill = \(skill)) ORDER BY week_start DESC LIMIT \(weeks)
                )
                SELECT skill, iso_week, week_start, gigs_posted, bids, bids_per_gig::float8 AS bpg, gigs_with_no_bids,
                       contracts_started, fill_rate::float8 AS fill, supply, demand_to_supply::float8 AS dts, win_rate::float8 AS win
                FROM read_models.competition_skill_weeks_v1
                WHERE week_start IN (SELECT week_start FROM recent) AND (\(skill)::text IS NULL OR skill = \(skill))
                  AND (\(key?[0])::timestamptz IS NULL
                       OR (-extract(epoch FROM week_start), -gigs_posted, skill)
                          > (-extract(epoch FROM \(key?[0])::timestamptz), -\(key?[1])::int, \(key?[2])::text))
                ORDER BY week_start DESC, gigs_posted DESC, skill
                LIMIT \(limit + 1)
                """
            ).rows.map { r in
                SkillWeek(
                    skill: try r.decode(String.self, "skill"), isoWeek: try r.decode(String.self, "iso_week"),
                    weekStart: try r.decode(Date.self, "week_start"),
                    gigsPosted: try r.decode(Int.self, "gigs_posted"), bids: try r.decode(Int.self, "bids"),
                    bidsPerGig: rounded(try r.decode(Double.self, "bpg"), places: 2),
                    gigsWithNoBids: try r.decode(Int.self, "gigs_with_no_bids"),
                    contractsStarted: try r.decode(Int.self, "contracts_started"),
                    fillRate: rounded(try r.decode(Double.self, "fill"), places: 4),
                    supply: try r.decode(Int.self, "supply"),
                    demandToSupply: try r.decode(Double?.self, "dts").map { rounded($0, places: 4) },
                    winRate: try r.decode(Double?.self, "win").map { rounded($0, places: 4) })
            }
        }
        let (data, next) = ReadModels.page(rows, limit: limit) {
            [RFC3339.format($0.weekStart), String($0.gigsPosted), $0.skill]
        }
        return Page(data: data, nextCursor: next, checkpoints: checkpoints)
    }
}
