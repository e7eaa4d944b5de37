import EventStore
import Foundation
import Marketplace
import PQ

/// Price trends (sql/READ_MODELS.md), per skill, currency and ISO week, in three series: `budget` (what
/// gigs post: their budget max), `bid` (what freelancers offer: each bid's latest amount, in the
/// week it was placed) and `clearing` (accepted amounts, in the week of the award). Currencies
/// never mix: every figure is per currency.
///
/// The projector keeps the observations (`read_models.price_observations_v1`) and, from them,
/// the figures of every week before the newest (`price_closed_weeks_v1`: each batch recomputes
/// the kept weeks it touched), so a query reads a few kept rows per skill plus the newest week's
/// observations, however long the log; the views compute:
/// - `price_weeks_v1`: n, p10, p25, median, p75, p90, mean (minor units, 1 decimal), bid ÷
///   budget median and the lowball share (bids under half the gig's budget min), per series;
/// - `price_trends_v1`: per skill and currency with any observation, the Theil–Sen slope of the
///   weekly clearing medians over the last 8 weeks that have n ≥ 5 (NULL below 2 such weeks), in
///   % of the latest median per week, the slope of bids per gig, and the price-war flag with its
///   reasons: clearing prices falling (slope ≤ −2 %/week), bids well under budget (bid ÷ budget
///   median < 0.75 in the latest week), and bids per gig rising;
/// - `rate_guidance_v1`: the p25–p75 clearing band over the last 8 weeks.
public struct PriceTrendsProjector: MarketplaceProjector {
    /// Its name in `ledger.projections`, the status and the read checkpoints.
    public let name = "price_trends"
    /// Read-model version 1: the `_v1` of its tables.
    public let version = 1
    /// The tables it writes (in `read_models`).
    public let tables = ["price_observations_v1", "price_closed_weeks_v1"]
    /// The views ``prepare(on:)`` creates over its tables, in dependency order.
    public let views = ["price_weeks_v1", "price_trends_v1", "rate_guidance_v1"]
    /// The event types it reads (the domain's own constants); it ignores every other type.
    public let eventTypes: Set<String> = [
        GigEvent.GigPosted.eventType, GigEvent.BidPlaced.eventType, GigEvent.BidRevised.eventType,
        GigEvent.BidAccepted.eventType,
    ]
    /// Where its events are decoded (``EventRegistry/marketplace`` unless a test gives another).
    public let registry: EventRegistry
    /// A projector decoding its events through `registry`.
    public init(registry: EventRegistry = .marketplace) { self.registry = registry }

    /// Creates `price_observations_v1` if missing and (re)creates its three views, in dependency
    /// order.
    public func prepare(on connection: Connection) async throws {
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS price_observations_v1 (
                series           text        NOT NULL,
                skill            text        NOT NULL,
                currency         text        NOT NULL,
                gig_id           uuid        NOT NULL,
                bid_id           uuid,
                at               timestamptz NOT NULL,
                amount_minor     bigint      NOT NULL,
                budget_min_minor bigint      NOT NULL,
                budget_max_minor bigint      NOT NULL,
                CONSTRAINT price_observations_v1_series CHECK (series IN ('budget', 'bid', 'clearing'))
            )
            """)
        try await connection.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS price_observations_v1_key
            ON price_observations_v1 (series, gig_id, skill, coalesce(bid_id, '00000000-0000-0000-0000-000000000000'))
            """)
        try await connection.execute(
            """
            CREATE INDEX IF NOT EXISTS price_observations_v1_week ON price_observations_v1 (skill, currency, series, at)
            """)
        try await connection.execute(
            "CREATE INDEX IF NOT EXISTS price_observations_v1_at ON price_observations_v1 (at)")
        // The weeks before the newest are kept (closed weeks); a deployment from before they were
        // gets them computed once from its observations.
        let closedWeeksExisted =
            try await connection.query(
                """
                SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'price_closed_weeks_v1'
                               AND relnamespace = current_schema()::regnamespace)
                """
            ).first?.decode(Bool.self, at: 0) ?? false
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS price_closed_weeks_v1 (
                series           text        NOT NULL,
                skill            text        NOT NULL,
                currency         text        NOT NULL,
                iso_week         text        NOT NULL,
                week_start       timestamptz NOT NULL,
                n                integer     NOT NULL,
                p10              numeric     NOT NULL,
                p25              numeric     NOT NULL,
                median           numeric     NOT NULL,
                p75              numeric     NOT NULL,
                p90              numeric     NOT NULL,
                mean             numeric     NOT NULL,
                to_budget_median numeric,
                lowball_share    numeric,
                CONSTRAINT price_closed_weeks_v1_pkey PRIMARY KEY (skill, currency, week_start, series)
            )
            """)
        // The newest week, defined once, as a function: the batches, the fold and the view read
        // it, and the planner evaluates it when it estimates a scan (a subquery would be a
        // parameter it guesses a third of the table for, and scan it all).
        let schema = try await connection.query("SELECT current_schema()").scalar(String.self)
        // Two daemons starting at once would replace the function together, and one would fail
        // ("tuple concurrently updated"): a function, unlike a view, is not locked by its
        // replacement. They take turns for the rest of their transactions.
        try await connection.execute("SELECT pg_advisory_xact_lock(hashtext('gigledger.price_newest_week_v1'))")
        try await connection.execute(
            """
            CREATE OR REPLACE FUNCTION price_newest_week_v1() RETURNS timestamptz
            LANGUAGE sql STABLE PARALLEL SAFE
            AS $$ SELECT date_trunc('week', max(at) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' FROM \(identifier: schema).price_observations_v1 $$
            """)
        if !closedWeeksExisted { try await connection.execute(Self.fillClosedWeeks) }
        // The kept weeks, and the newest week computed from its observations on each query (by
        // the index on at). The bound twice: the call for the planner's estimate, the subquery
        // (computed once) so that a scan that filters rows does not call the function per row.
        try await connection.execute(
            """
            CREATE OR REPLACE VIEW price_weeks_v1 AS
            SELECT * FROM price_closed_weeks_v1
            UNION ALL
            SELECT \(Self.weekFigures)
            WHERE o.at >= price_newest_week_v1() AND o.at >= (SELECT price_newest_week_v1())
            GROUP BY \(Self.weekGroup)
            """)
        // Every (skill, currency) with an observation has a row; the slope needs 2 clearing weeks
        // with n ≥ 5, and the price-war conditions are tested on the published (rounded) values.
        // One pair at a time (LATERAL), so a skill filter reaches the newest week's index scan.
        try await connection.execute(
            """
            CREATE OR REPLACE VIEW price_trends_v1 AS
            SELECT p.skill, p.currency, t.weeks_used, t.latest_clearing_median, t.slope_pct_per_week,
                   t.bid_to_budget_median, t.bids_per_gig_slope,
                   coalesce(t.slope_pct_per_week <= -2 AND t.bid_to_budget_median < 0.75 AND t.bids_per_gig_slope > 0, false) AS price_war,
                   array_remove(ARRAY[
                       CASE WHEN t.slope_pct_per_week <= -2 THEN 'clearing prices falling ' || round(t.slope_pct_per_week, 1) || ' %/week' END,
                       CASE WHEN t.bid_to_budget_median < 0.75 THEN 'bids at ' || round(t.bid_to_budget_median * 100) || ' % of budget' END,
                       CASE WHEN t.bids_per_gig_slope > 0 THEN 'bids per gig rising' END
                   ], NULL) AS reasons
            FROM (SELECT DISTINCT skill, currency FROM price_weeks_v1) p
            CROSS JOIN LATERAL (
                WITH w AS MATERIALIZED (
                    SELECT series, week_start, n, median, to_budget_median FROM price_weeks_v1
                    WHERE skill = p.skill AND currency = p.currency
                ), recent AS MATERIALIZED (
                    SELECT week_start, median FROM w WHERE series = 'clearing' AND n >= 5 ORDER BY week_start DESC LIMIT 8
                ), crowding AS MATERIALIZED (
                    SELECT b.week_start, b.n::float8 / g.n AS bids_per_gig
                    FROM w b JOIN w g ON g.series = 'budget' AND g.week_start = b.week_start
                    WHERE b.series = 'bid' ORDER BY b.week_start DESC LIMIT 8
                ), figures AS (
                    SELECT (SELECT count(*)::int FROM recent) AS weeks_used,
                           (SELECT median FROM recent ORDER BY week_start DESC LIMIT 1) AS latest,
                           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ((b.median - a.median) / (extract(epoch FROM b.week_start - a.week_start) / 604800))::float8)
                            FROM recent a JOIN recent b ON b.week_start > a.week_start) AS slope,
                           (SELECT to_budget_median FROM w WHERE series = 'bid' ORDER BY week_start DESC LIMIT 1) AS bid_to_budget_median,
                           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (b.bids_per_gig - a.bids_per_gig) / (extract(epoch FROM b.week_start - a.week_start)::float8 / 604800))
                            FROM crowding a JOIN crowding b ON b.week_start > a.week_start) AS crowding_slope
                )
                SELECT weeks_used, latest AS latest_clearing_median,
                       round((100 * slope / nullif(latest, 0))::numeric, 2) AS slope_pct_per_week,
                       bid_to_budget_median, round(crowding_slope::numeric, 3) AS bids_per_gig_slope
                FROM figures
            ) t
            """)
        try await connection.execute(
            """
            CREATE OR REPLACE VIEW rate_guidance_v1 AS
            SELECT p.skill, p.currency, g.n, g.p25, g.median, g.p75
            FROM (SELECT DISTINCT skill, currency FROM price_weeks_v1 WHERE series = 'clearing') p
            CROSS JOIN LATERAL (
                SELECT max(at) AS last_at FROM price_observations_v1
                WHERE skill = p.skill AND currency = p.currency AND series = 'clearing'
            ) m
            CROSS JOIN LATERAL (
                SELECT count(*)::int AS n,
                       round((percentile_cont(0.25) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS p25,
                       round((percentile_cont(0.50) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS median,
                       round((percentile_cont(0.75) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS p75
                FROM price_observations_v1 o
                WHERE o.skill = p.skill AND o.currency = p.currency AND o.series = 'clearing'
                  AND o.at > m.last_at - interval '8 weeks'
            ) g
            """)
    }

    /// Applies one event, as a batch of one (``apply(batch:on:)``).
    public func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        try await apply(batch: [event], on: connection)
    }

    /// Set-based: budgets, then bid and clearing observations (joined to the gig's budget rows),
    /// then each revised bid's latest amount — three statements per batch at most. Observations
    /// are keyed (series, gig, skill, bid) and inserted once; a revision assigns the amount, so
    /// re-applying events already applied changes nothing.
    public func apply(batch events: [RecordedEvent], on connection: Connection) async throws {
        var budgets: [(gig: UUID, skill: String, currency: String, at: Date, min: Int64, max: Int64)] = []
        var offers: [(series: String, gig: UUID, bid: UUID, currency: String, at: Date, amount: Int64)] = []
        var revised = LastWins<[UUID], Int64>()
        for event in events where eventTypes.contains(event.type) {
            switch try event.decoded(with: registry) {
            case .gig(.gigPosted(let p)):
                for skill in p.skills {
                    budgets.append(
                        (
                            p.gigID.uuid, skill.slug, p.budgetMax.currency.code, event.occurredAt,
                            p.budgetMin.minorUnits, p.budgetMax.minorUnits
                        ))
                }
            case .gig(.bidPlaced(let p)):
                offers.append(
                    ("bid", p.gigID.uuid, p.bidID.uuid, p.amount.currency.code, event.occurredAt, p.amount.minorUnits))
            case .gig(.bidAccepted(let p)):
                offers.append(
                    (
                        "clearing", p.gigID.uuid, p.bidID.uuid, p.agreedAmount.currency.code, event.occurredAt,
                        p.agreedAmount.minorUnits
                    ))
            case .gig(.bidRevised(let p)):  // the bid's latest amount counts
                revised.set([p.gigID.uuid, p.bidID.uuid], p.amount.minorUnits)
            default:
                continue
            }
        }
        guard !budgets.isEmpty || !offers.isEmpty || !revised.isEmpty else { return }
        // The newest week before this batch: the weeks before it are kept, it is computed on read.
        let newestBefore =
            try await connection.query("SELECT price_newest_week_v1()").first?.decode(Date?.self, at: 0) ?? nil
        var touched = Set<WeekKey>()
        if !budgets.isEmpty {
            let rows = try await connection.query(
                """
                INSERT INTO price_observations_v1 (series, skill, currency, gig_id, at, amount_minor, budget_min_minor, budget_max_minor)
                SELECT 'budget', b.skill, b.currency, b.gig_id, b.at, b.max, b.min, b.max
                FROM unnest(\(budgets.map(\.gig))::uuid[], \(budgets.map(\.skill))::text[], \(budgets.map(\.currency))::text[],
                            \(budgets.map(\.at))::timestamptz[], \(budgets.map(\.min))::int8[], \(budgets.map(\.max))::int8[])
                     AS b(gig_id, skill, currency, at, min, max)
                ON CONFLICT DO NOTHING
                RETURNING series, skill, currency, \(Self.weekStart)
                """
            ).rows
            try touched.formUnion(rows.map(WeekKey.init))
        }
        if !offers.isEmpty {
            let rows = try await connection.query(
                """
                INSERT INTO price_observations_v1 (series, skill, currency, gig_id, bid_id, at, amount_minor, budget_min_minor, budget_max_minor)
                SELECT o.series, b.skill, o.currency, o.gig_id, o.bid_id, o.at, o.amount, b.budget_min_minor, b.budget_max_minor
                FROM unnest(\(offers.map(\.series))::text[], \(offers.map(\.gig))::uuid[], \(offers.map(\.bid))::uuid[],
                            \(offers.map(\.currency))::text[], \(offers.map(\.at))::timestamptz[], \(offers.map(\.amount))::int8[])
                     WITH ORDINALITY AS o(series, gig_id, bid_id, currency, at, amount, n)
                JOIN price_observations_v1 b ON b.series = 'budget' AND b.gig_id = o.gig_id
                ORDER BY o.n, b.skill
                ON CONFLICT DO NOTHING
                RETURNING series, skill, currency, \(Self.weekStart)
                """
            ).rows
            try touched.formUnion(rows.map(WeekKey.init))
        }
        if !revised.isEmpty {
            let entries = revised.entries
            let rows = try await connection.query(
                """
                UPDATE price_observations_v1 o SET amount_minor = r.amount
                FROM unnest(\(entries.map { $0.key[0] })::uuid[], \(entries.map { $0.key[1] })::uuid[], \(entries.map(\.value))::int8[])
                     AS r(gig_id, bid_id, amount)
                WHERE o.series = 'bid' AND o.gig_id = r.gig_id AND o.bid_id = r.bid_id AND o.amount_minor <> r.amount
                RETURNING o.series, o.skill, o.currency, \(Self.weekStart)
                """
            ).rows
            try touched.formUnion(rows.map(WeekKey.init))
        }
        guard let newest = ([newestBefore].compactMap { $0 } + touched.map(\.weekStart)).max() else { return }
        // Each kept week this batch changed, recomputed whole from its observations: its figures
        // then equal the fold's (and the formulas') whatever the batches were. The newest week
        // is computed on read, so the busiest week costs the writers nothing; when a batch starts
        // a newer week, the one it closes is kept.
        let keys = touched.filter { $0.weekStart < newest }.sorted()
        if !keys.isEmpty {
            try await connection.execute(
                """
                INSERT INTO price_closed_weeks_v1
                SELECT \(Self.weekFigures)
                JOIN unnest(\(keys.map(\.series))::text[], \(keys.map(\.skill))::text[], \(keys.map(\.currency))::text[],
                            \(keys.map(\.weekStart))::timestamptz[]) AS t(series, skill, currency, week_start)
                  ON o.series = t.series AND o.skill = t.skill AND o.currency = t.currency
                 AND o.at >= t.week_start AND o.at < t.week_start + interval '168 hours'
                GROUP BY \(Self.weekGroup)
                \(Self.replaceWeek)
                """)
        }
        if let closed = newestBefore, closed < newest {
            try await connection.execute(
                """
                INSERT INTO price_closed_weeks_v1
                SELECT \(Self.weekFigures)
                WHERE o.at >= \(closed)::timestamptz AND o.at < \(closed)::timestamptz + interval '168 hours'
                GROUP BY \(Self.weekGroup)
                \(Self.replaceWeek)
                """)
        }
    }

    /// A recomputed week replaces the kept one.
    static let replaceWeek: SQL = """
        ON CONFLICT (skill, currency, week_start, series) DO UPDATE
        SET iso_week = EXCLUDED.iso_week, n = EXCLUDED.n, p10 = EXCLUDED.p10, p25 = EXCLUDED.p25,
            median = EXCLUDED.median, p75 = EXCLUDED.p75, p90 = EXCLUDED.p90, mean = EXCLUDED.mean,
            to_budget_median = EXCLUDED.to_budget_median, lowball_share = EXCLUDED.lowball_share
        """

    /// Every week before the newest, from the observations (the fold; a deployment's first start).
    static let fillClosedWeeks: SQL = """
        INSERT INTO price_closed_weeks_v1
        SELECT \(weekFigures) WHERE o.at < (SELECT price_newest_week_v1()) GROUP BY \(weekGroup)
        """

    /// One week of one series, skill and currency: a row of `price_weeks_v1`.
    struct WeekKey: Hashable, Comparable {
        let series: String
        let skill: String
        let currency: String
        let weekStart: Date

        /// From a row of (series, skill, currency, week start).
        init(_ row: Row) throws {
            series = try row.decode(String.self, at: 0)
            skill = try row.decode(String.self, at: 1)
            currency = try row.decode(String.self, at: 2)
            weekStart = try row.decode(Date.self, at: 3)
        }

        static func < (a: WeekKey, b: WeekKey) -> Bool {
            (a.skill, a.currency, a.weekStart, a.series) < (b.skill, b.currency, b.weekStart, b.series)
        }
    }

    /// Monday 00:00 UTC of the week an observation's `at` falls in.
    static let weekStart: SQL = "date_trunc('week', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"

    /// The columns of `price_weeks_v1` from the observations `o` (sql/READ_MODELS.md has the
    /// formulas), then `FROM price_observations_v1 o`: for a `GROUP BY` ``weekGroup``.
    static let weekFigures: SQL = """
        o.series, o.skill, o.currency,
        to_char(date_trunc('week', o.at AT TIME ZONE 'UTC'), 'IYYY-"W"IW') AS iso_week,
        date_trunc('week', o.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS week_start,
        count(*)::int AS n,
        round((percentile_cont(0.10) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS p10,
        round((percentile_cont(0.25) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS p25,
        round((percentile_cont(0.50) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS median,
        round((percentile_cont(0.75) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS p75,
        round((percentile_cont(0.90) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS p90,
        round(avg(o.amount_minor), 1) AS mean,
        round((percentile_cont(0.5) WITHIN GROUP (ORDER BY o.amount_minor::float8 / o.budget_max_minor))::numeric, 4) AS to_budget_median,
        CASE WHEN o.series = 'bid' THEN round(avg((o.amount_minor * 2 < o.budget_min_minor)::int), 4) END AS lowball_share
        FROM price_observations_v1 o
        """

    /// What ``weekFigures`` groups by: one row per series, skill, currency and week.
    static let weekGroup: SQL = "o.series, o.skill, o.currency, date_trunc('week', o.at AT TIME ZONE 'UTC')"
}
