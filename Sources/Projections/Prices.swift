import EventStore
import Foundation
import PQ

/// Queries over the price read models (`price_weeks_v1`, `price_trends_v1`, `rate_guidance_v1`;
/// sql/READ_MODELS.md has every formula). Currencies never mix: every figure is per currency.
/// Each call reads one snapshot and says which checkpoint it reflects.
public struct Prices: Sendable {
    /// Where the read models are read.
    public let pool: ConnectionPool

    /// Queries over the read models in the database behind `pool`.
    public init(pool: ConnectionPool) { self.pool = pool }

    /// The three price series.
    public enum Series: String, Sendable, Codable, Hashable, CaseIterable {
        /// Each gig's budget max, in the week it was posted (once per skill of the gig).
        case budget
        /// Each bid's latest amount, in the week it was placed (withdrawn and declined bids included).
        case bid
        /// Accepted amounts, in the week of the award.
        case clearing
    }

    /// One series for one skill, currency and ISO week. Amounts are minor units of `currency`.
    public struct Week: Sendable, Codable, Hashable {
        /// Which series the figures describe.
        public let series: Series
        /// The skill slug.
        public let skill: String
        /// ISO 4217 code of every amount in the row.
        public let currency: String
        /// `2026-W47`.
        public let isoWeek: String
        /// Monday 00:00 UTC of that week.
        @RFC3339Time public var weekStart: Date
        /// Observations (≥ 1: a week without observations has no row).
        public let n: Int
        /// 10th percentile (all percentiles are continuous: `percentile_cont`), 1 decimal.
        public let p10Minor: Double
        /// 25th percentile, 1 decimal.
        public let p25Minor: Double
        /// Median, 1 decimal.
        public let medianMinor: Double
        /// 75th percentile, 1 decimal.
        public let p75Minor: Double
        /// 90th percentile, 1 decimal.
        public let p90Minor: Double
        /// 1 decimal.
        public let meanMinor: Double
        /// Median of amount ÷ the gig's budget max, 4 decimals.
        public let toBudgetMedian: Double
        /// Bid series only: the share of bids under half the gig's budget min, 4 decimals;
        /// `null` for the other series.
        @NullEncoded public var lowballShare: Double?
    }

    /// The clearing-price trend of one skill in one currency.
    public struct Trend: Sendable, Codable, Hashable {
        /// The skill slug.
        public let skill: String
        /// ISO 4217 code of the clearing prices and bids the trend is computed from.
        public let currency: String
        /// Weeks with n ≥ 5 clearing prices among the last 8 such weeks (a slope needs 2).
        public let weeksUsed: Int
        /// The latest such week's clearing median (1 decimal); `null` without such a week.
        @NullEncoded public var latestClearingMedianMinor: Double?
        /// Theil–Sen slope of those weekly medians, in % of the latest median per week,
        /// 2 decimals; `null` below 2 weeks.
        @NullEncoded public var slopePctPerWeek: Double?
        /// The bid series' `toBudgetMedian` in its latest week (4 decimals); `null` without bids.
        @NullEncoded public var bidToBudgetMedian: Double?
        /// Theil–Sen slope of bids per gig per week over the last 8 weeks with both bids and
        /// budgets, 3 decimals; `null` below 2 such weeks.
        @NullEncoded public var bidsPerGigSlope: Double?
        /// Clearing prices falling ≥ 2 %/week, bids under 75 % of budget, and bids per gig rising.
        public let priceWar: Bool
        /// The conditions of a price war that hold, as text.
        public let reasons: [String]
    }

    /// The rate guidance for a new gig: the clearing band of the 8 weeks up to the latest award.
    public struct RateGuidance: Sendable, Codable, Hashable {
        /// The skill slug.
        public let skill: String
        /// ISO 4217 code; the amounts are minor units of it.
        public let currency: String
        /// Clearing prices in the window.
        public let n: Int
        /// 1 decimal each.
        public let p25Minor: Double
        /// Median, 1 decimal.
        public let medianMinor: Double
        /// 75th percentile, 1 decimal.
        public let p75Minor: Double
    }

    static let projections: [any Projector] = [PriceTrendsProjector()]

    /// Weekly figures of `skill` (optionally in one `currency`), ordered by currency, week and
    /// series. Pages of `limit`; pass a page's `nextCursor` as `after` for the next.
    public func weeks(skill: String, currency: String? = nil, limit: Int = 500, after: String? = nil)
        async throws -> Page<Week>
    {
        try ReadModels.validate(limit: limit)
        let key = try ReadModels.key(after, [.text, .time, .text])
        let (rows, checkpoints) = try await ReadModels.read(pool, Self.projections) { conn in
            try await Self.weeks(skill: skill, currency: currency, key: key, limit: limit + 1, conn)
        }
        let (data, next) = ReadModels.page(rows, limit: limit) {
            [$0.currency, RFC3339.format($0.weekStart), $0.series.rawValue]
        }
        return Page(data: data, nextCursor: next, checkpoints: checkpoints)
    }

    static func weeks(skill: String, currency: String?, key: [String]?, limit: Int?, _ conn: Connection)
        async throws -> [Week]
    {
        try await conn.query(
            """
            SELECT series, skill, currency, iso_week, week_start, n, p10::float8 AS p10, p25::float8 AS p25,
                   median::float8 AS median, p75::float8 AS p75, p90::float8 AS p90, mean::float8 AS mean,
                   to_budget_median::float8 AS ratio, lowball_share::float8 AS lowball
            FROM read_models.price_weeks_v1
            WHERE skill = \(skill) AND (\(currency)::text IS NULL OR currency = \(currency))
              AND (\(key?[0])::text IS NULL
                   OR (currency, week_start, series) > (\(key?[0])::text, \(key?[1])::timestamptz, \(key?[2])::text))
            ORDER BY currency, week_start, series
            LIMIT \(limit)
            """
        ).rows.map { r in
            Week(
                series: Series(rawValue: try r.decode(String.self, "series")) ?? .bid,
                skill: try r.decode(String.self, "skill"), currency: try r.decode(String.self, "currency"),
                isoWeek: try r.decode(String.self, "iso_week"), weekStart: try r.decode(Date.self, "week_start"),
                n: try r.decode(Int.self, "n"), p10Minor: rounded(try r.decode(Double.self, "p10"), places: 1),
                p25Minor: rounded(try r.decode(Double.self, "p25"), places: 1),
                medianMinor: rounded(try r.decode(Double.self, "median"), places: 1),
                p75Minor: rounded(try r.decode(Double.self, "p75"), places: 1),
                p90Minor: rounded(try r.decode(Double.self, "p90"), places: 1),
                meanMinor: rounded(try r.decode(Double.self, "mean"), places: 1),
                toBudgetMedian: rounded(try r.decode(Double.self, "ratio"), places: 4),
                lowballShare: try r.decode(Double?.self, "lowball").map { rounded($0, places: 4) })
        }
    }

    /// Trends per skill and currency (optionally one `skill`, one `currency`), ordered by skill
    /// and currency. Every (skill, currency) with any price observation has a row.
    public func trends(skill: String? = nil, currency: String? = nil, limit: Int = 500, after: String? = nil)
        async throws -> Page<Trend>
    {
        try await trends(skill: skill, currency: currency, warsOnly: false, limit: limit, after: after)
    }

    /// The (skill, currency) pairs in a price war, steepest fall first (then skill, currency).
    public func priceWars(limit: Int = 500, after: String? = nil) async throws -> Page<Trend> {
        try await trends(skill: nil, currency: nil, warsOnly: true, limit: limit, after: after)
    }

    private func trends(skill: String?, currency: String?, warsOnly: Bool, limit: Int, after: String?)
        async throws -> Page<Trend>
    {
        try ReadModels.validate(limit: limit)
        let key = try ReadModels.key(after, warsOnly ? [.number, .text, .text] : [.text, .text])
        let (rows, checkpoints) = try await ReadModels.read(pool, Self.projections) { conn in
            try await Self.trends(
                skill: skill, currency: currency, warsOnly: warsOnly, key: key, limit: limit + 1, conn)
        }
        let (data, next) = ReadModels.page(rows, limit: limit) {
            warsOnly ? [String($0.slopePctPerWeek ?? 0), $0.skill, $0.currency] : [$0.skill, $0.currency]
        }
        return Page(data: data, nextCursor: next, checkpoints: checkpoints)
    }

    static func trends(
        skill: String?, currency: String?, warsOnly: Bool, key: [String]?, limit: Int?, _ conn: Connection
    ) async throws -> [Trend] {
        // Wars: slope (never null in a war) first; else skill, currency.
        let order: SQL =
            warsOnly ? "slope_pct_per_week, skill, currency" : "skill, currency"
        let seek: SQL =
            warsOnly
            ? "(\(key?[0])::text IS NULL OR (slope_pct_per_week, skill, currency) > (\(key?[0])::numeric, \(key?[1])::text, \(key?[2])::text))"
            : "(\(key?[0])::text IS NULL OR (skill, currency) > (\(key?[0])::text, \(key?[1])::text))"
        return try await conn.query(
            """
            SELECT skill, currency, weeks_used, latest_clearing_median::float8 AS latest, slope_pct_per_week::float8 AS slope,
                   bid_to_budget_median::float8 AS ratio, bids_per_gig_slope::float8 AS crowding, price_war, reasons
            FROM read_models.price_trends_v1
            WHERE (\(skill)::text IS NULL OR skill = \(skill)) AND (\(currency)::text IS NULL OR currency = \(currency))
              AND (NOT \(warsOnly) OR price_war) AND \(seek)
            ORDER BY \(order)
            LIMIT \(limit)
            """
        ).rows.map { r in
            Trend(
                skill: try r.decode(String.self, "skill"), currency: try r.decode(String.self, "currency"),
                weeksUsed: try r.decode(Int.self, "weeks_used"),
                latestClearingMedianMinor: try r.decode(Double?.self, "latest").map { rounded($0, places: 1) },
                slopePctPerWeek: try r.decode(Double?.self, "slope").map { rounded($0, places: 2) },
                bidToBudgetMedian: try r.decode(Double?.self, "ratio").map { rounded($0, places: 4) },
                bidsPerGigSlope: try r.decode(Double?.self, "crowding").map { rounded($0, places: 3) },
                priceWar: try r.decode(Bool.self, "price_war"), reasons: try r.decode([String].self, "reasons"))
        }
    }

    /// The rate guidance of `skill` (optionally in one `currency`), one per currency with a
    /// clearing price, ordered by currency.
    public func rateGuidance(skill: String, currency: String? = nil) async throws -> Snapshot<[RateGuidance]> {
        let (rows, checkpoints) = try await ReadModels.read(pool, Self.projections) { conn in
            try await Self.rateGuidance(skill: skill, currency: currency, conn)
        }
        return Snapshot(data: rows, checkpoints: checkpoints)
    }

    static func rateGuidance(skill: String, currency: String?, _ conn: Connection) async throws -> [RateGuidance] {
        try await conn.query(
            """
            SELECT skill, currency, n, p25::float8 AS p25, median::float8 AS median, p75::float8 AS p75
            FROM read_models.rate_guidance_v1
            WHERE skill = \(skill) AND (\(currency)::text IS NULL OR currency = \(currency))
            ORDER BY currency
            """
        ).rows.map { r in
            RateGuidance(
                skill: try r.decode(String.self, "skill"), currency: try r.decode(String.self, "currency"),
                n: try r.decode(Int.self, "n"), p25Minor: rounded(try r.decode(Double.self, "p25"), places: 1),
                medianMinor: rounded(try r.decode(Double.self, "median"), places: 1),
                p75Minor: rounded(try r.decode(Double.self, "p75"), places: 1))
        }
    }

    /// Everything about one skill's prices, read in one snapshot: what `gigctl stats prices`
    /// shows. Weeks are not paged (three series per week and currency).
    public struct Overview: Sendable, Codable, Hashable {
        /// The skill asked for.
        public let skill: String
        /// By currency, week, series.
        public let weeks: [Week]
        /// One per currency with a clearing price.
        public let rateGuidance: [RateGuidance]
        /// One per currency with any price.
        public let trends: [Trend]
    }

    /// Weeks, rate guidance and trends of `skill` (optionally one `currency`) in one snapshot.
    public func overview(skill: String, currency: String? = nil) async throws -> Snapshot<Overview> {
        let (overview, checkpoints) = try await ReadModels.read(pool, Self.projections) { conn in
            Overview(
                skill: skill,
                weeks: try await Self.weeks(skill: skill, currency: currency, key: nil, limit: nil, conn),
                rateGuidance: try await Self.rateGuidance(skill: skill, currency: currency, conn),
                trends: try await Self.trends(
                    skill: skill, currency: currency, warsOnly: false, key: nil, limit: nil, conn))
        }
        return Snapshot(data: overview, checkpoints: checkpoints)
    }
}
