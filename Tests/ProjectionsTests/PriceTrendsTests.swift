import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections
import Simulation
import TestSupport
import Testing

@Suite("Price trends")
struct PriceTrendsTests {
    /// Three weeks of SEO gigs (budget max 2000.00 EUR): clearing prices 900–1100, 800–1000 and
    /// 700–900 (medians 1000, 900, 800), with 1, 2 then 3 bids per gig; plus a USD gig that must
    /// never mix in.
    @Test func percentilesSlopeAndThePriceWarFlagAgainstHandComputedValues() async throws {
        let pool = try await TestDatabase.fresh("prices")
        let service = MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests)
        let monday = Date(timeIntervalSince1970: 1_793_613_600)  // 2026-11-02 10:00 UTC, ISO week 2026-W45
        func run(_ fields: [String: JSONValue], at time: Date) async throws {
            try await service.execute(try CommandInput(fields: fields, now: time).command())
        }
        let client = UUID().uuidString.lowercased()
        try await run(
            [
                "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client),
                "name": "C", "country": "DE",
            ], at: monday)
        var freelancers: [String] = []
        for _ in 0..<3 {
            let id = UUID().uuidString.lowercased()
            try await run(
                [
                    "command": "RegisterFreelancer", "actor": .string("freelancer:\(id)"), "freelancerId": .string(id),
                    "name": "F",
                    "skills": [["skill": "seo", "level": 2], ["skill": "design", "level": 2]],
                    "hourlyRate": ["currency": "EUR", "amount": "40.00"], "hoursPerWeek": 20,
                ], at: monday)
            freelancers.append(id)
        }
        func gig(week: Int, index: Int, clearing: Int, bidders: Int, currency: String = "EUR", skill: String = "seo")
            async throws
        {
            let posted = monday.addingTimeInterval(Double(week) * 7 * 86_400 + Double(index) * 60)
            let gig = UUID().uuidString.lowercased()
            try await run(
                [
                    "command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(client),
                    "gigId": .string(gig),
                    "title": "SEO", "skills": .array([.string(skill)]),
                    "budgetMin": ["currency": .string(currency), "amount": "1000.00"],
                    "budgetMax": ["currency": .string(currency), "amount": "2000.00"],
                    "biddingClosesAt": .string(
                        ISO8601DateFormatter().string(from: posted.addingTimeInterval(5 * 86_400))),
                ], at: posted)
            var winner = ""
            for b in 0..<bidders {
                let bid = UUID().uuidString.lowercased()
                if b == 0 { winner = bid }
                try await run(
                    [
                        "command": "PlaceBid", "actor": .string("freelancer:\(freelancers[b])"), "gigId": .string(gig),
                        "bidId": .string(bid),
                        "amount": [
                            "currency": .string(currency), "minorUnits": .number(Double(clearing * 100 + b * 10_000)),
                        ], "estimatedDays": 3,
                    ],
                    at: posted.addingTimeInterval(3600))
            }
            try await run(
                [
                    "command": "AcceptBid", "actor": .string("client:\(client)"), "gigId": .string(gig),
                    "bidId": .string(winner),
                ],
                at: posted.addingTimeInterval(7200))
        }
        for (week, base) in [(0, 900), (1, 800), (2, 700)] {
            for i in 0..<5 { try await gig(week: week, index: i, clearing: base + 50 * i, bidders: week + 1) }
        }
        try await gig(week: 2, index: 9, clearing: 50, bidders: 1, currency: "USD")
        // Design: the same prices and one bid per gig every week — no price war.
        for week in 0..<3 {
            for i in 0..<5 {
                try await gig(week: week, index: 20 + i, clearing: 1500 + 50 * i, bidders: 1, skill: "design")
            }
        }

        let engine = ProjectionEngine(store: service.store, projectors: ShippedProjectors.all)
        try await engine.prepare()
        let total = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        _ = try await eventually { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await engine.status().allSatisfy { $0.eventsApplied >= Int64(total) } ? true : nil
        }

        // Week 1 clearing: 900 950 1000 1050 1100 EUR (minor units ×100).
        let week = try #require(
            try await pool.query(
                """
                SELECT n, p10, p25, median, p75, p90, mean::float8 AS mean
                FROM read_models.price_weeks_v1 WHERE series = 'clearing' AND skill = 'seo' AND currency = 'EUR' AND iso_week = '2026-W45'
                """
            ).first)
        #expect(try week.decode(Int.self, "n") == 5)
        #expect(try week.decode(Double.self, "p10") == 92_000)
        #expect(try week.decode(Double.self, "p25") == 95_000)
        #expect(try week.decode(Double.self, "median") == 100_000)
        #expect(try week.decode(Double.self, "p75") == 105_000)
        #expect(try week.decode(Double.self, "p90") == 108_000)
        #expect(try week.decode(Double.self, "mean") == 100_000)

        // Medians 1000, 900, 800: every pairwise slope is −100/week; −100 ÷ 800 = −12.5 %/week.
        let trend = try #require(
            try await pool.query(
                """
                SELECT weeks_used, slope_pct_per_week::float8 AS slope, bid_to_budget_median::float8 AS ratio,
                       bids_per_gig_slope::float8 AS crowding, price_war, reasons
                FROM read_models.price_trends_v1 WHERE skill = 'seo' AND currency = 'EUR'
                """
            ).first)
        #expect(try trend.decode(Int.self, "weeks_used") == 3)
        #expect(try trend.decode(Double.self, "slope") == -12.5)
        #expect(try trend.decode(Double.self, "crowding") == 1.0)
        #expect(try trend.decode(Double.self, "ratio") < 0.75)
        #expect(try trend.decode(Bool.self, "price_war"))
        #expect(try trend.decode([String].self, "reasons").count == 3)
        let stable = try #require(
            try await pool.query(
                """
                SELECT slope_pct_per_week::float8 AS slope, price_war FROM read_models.price_trends_v1 WHERE skill = 'design' AND currency = 'EUR'
                """
            ).first)
        #expect(try stable.decode(Double.self, "slope") == 0)
        #expect(try stable.decode(Bool.self, "price_war") == false)
        // The single USD gig is its own series, below the n ≥ 5 threshold: a row with no week
        // used, no slope and no price war (every pair with prices has a row), and no mixing.
        let usdTrend = try #require(
            try await pool.query(
                """
                SELECT weeks_used, latest_clearing_median, slope_pct_per_week, price_war
                FROM read_models.price_trends_v1 WHERE skill = 'seo' AND currency = 'USD'
                """
            ).first)
        #expect(try usdTrend.decode(Int.self, "weeks_used") == 0)
        #expect(try usdTrend.decode(Double?.self, "latest_clearing_median") == nil)
        #expect(try usdTrend.decode(Double?.self, "slope_pct_per_week") == nil)
        #expect(try usdTrend.decode(Bool.self, "price_war") == false)
        let usd = try await pool.query(
            "SELECT n FROM read_models.price_weeks_v1 WHERE series = 'clearing' AND currency = 'USD'"
        ).scalar(Int.self)
        #expect(usd == 1)
        // Rate guidance: p25–p75 of the last 8 weeks' EUR clearing prices (15 values 700…1100).
        let band = try #require(
            try await pool.query(
                "SELECT n, p25, p75 FROM read_models.rate_guidance_v1 WHERE skill = 'seo' AND currency = 'EUR'"
            ).first)
        #expect(try band.decode(Int.self, "n") == 15)
        #expect(try band.decode(Double.self, "p25") == 82_500)
        #expect(try band.decode(Double.self, "p75") == 97_500)
    }

    /// The weekly figures as the former view computed them on each query, from every observation:
    /// the oracle of the table the projector now keeps.
    static let formerWeeksView: SQL = """
        SELECT o.series, o.skill, o.currency,
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
        FROM read_models.price_observations_v1 o
        GROUP BY o.series, o.skill, o.currency, date_trunc('week', o.at AT TIME ZONE 'UTC')
        """

    /// The rate guidance as its former view computed it (one aggregate over all observations).
    static let formerGuidanceView: SQL = """
        SELECT o.skill, o.currency, count(*)::int AS n,
               round((percentile_cont(0.25) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS p25,
               round((percentile_cont(0.50) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS median,
               round((percentile_cont(0.75) WITHIN GROUP (ORDER BY o.amount_minor))::numeric, 1) AS p75
        FROM read_models.price_observations_v1 o
        JOIN (SELECT skill, currency, max(at) AS last_at FROM read_models.price_observations_v1
              WHERE series = 'clearing' GROUP BY 1, 2) m USING (skill, currency)
        WHERE o.series = 'clearing' AND o.at > m.last_at - interval '8 weeks'
        GROUP BY o.skill, o.currency
        """

    /// Batches of 37 events recompute the kept weeks they touch (bids and revisions land in weeks
    /// other batches filled, and batches close weeks): the kept weeks and the newest computed on
    /// read equal the former view's figures over the same observations, and a deployment that
    /// still has the former view gets the kept weeks, filled, in place.
    @Test func theKeptWeeksEqualTheFormerViewAndReplaceItInPlace() async throws {
        let config = SimulationConfig(
            freelancers: 40, clients: 8, weeks: 4, seed: 17, gigsPerClientPerWeek: 1.5, workers: 4)
        let (pool, _) = try await ReplayTests.market("priceweeks", config: config)
        let engine = ProjectionEngine(
            store: EventStore(pool: pool), projectors: [PriceTrendsProjector()], owner: "weeks", batchSize: 37)
        try await engine.prepare()
        let total = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        _ = try await eventually { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await engine.status().allSatisfy { $0.eventsApplied >= Int64(total) } ? true : nil
        }
        func rows(_ relation: SQL) async throws -> [String] {
            try await pool.query("SELECT t::text FROM (\(relation)) t ORDER BY 1").rows.map {
                try $0.decode(String.self, at: 0)
            }
        }
        let oracle = try await rows(Self.formerWeeksView)
        let published = try await rows("SELECT * FROM read_models.price_weeks_v1")
        #expect(oracle.count > 20, "weeks with observations")
        #expect(published == oracle)
        // Kept: every week before the newest; the newest is computed on read.
        let newest = try await pool.query(
            "SELECT to_char(max(week_start), 'IYYY-\"W\"IW') FROM (\(Self.formerWeeksView)) w"
        ).scalar(String.self)
        let kept = try await rows("SELECT * FROM read_models.price_closed_weeks_v1")
        let closedWeeks = try await rows(
            "SELECT * FROM (\(Self.formerWeeksView)) w WHERE iso_week <> \(newest)")
        #expect(kept == closedWeeks)
        #expect(kept.count < oracle.count, "the newest week is not kept")
        let trends = try await rows("SELECT * FROM read_models.price_trends_v1")
        #expect(!trends.isEmpty)

        // A deployment from before: the weeks a view, the trends over it, the guidance over the
        // observations alone.
        let guidance = try await rows("SELECT * FROM read_models.rate_guidance_v1")
        #expect(guidance == (try await rows(Self.formerGuidanceView)), "the guidance as its former view computed it")
        try await pool.query("DROP VIEW read_models.price_trends_v1")
        try await pool.query("DROP VIEW read_models.rate_guidance_v1")
        try await pool.query("DROP VIEW read_models.price_weeks_v1")
        try await pool.query("DROP TABLE read_models.price_closed_weeks_v1")
        try await pool.query("CREATE VIEW read_models.price_weeks_v1 AS \(Self.formerWeeksView)")
        try await engine.prepare()
        #expect(try await rows("SELECT * FROM read_models.price_closed_weeks_v1") == closedWeeks)
        #expect(try await rows("SELECT * FROM read_models.price_weeks_v1") == oracle)
        #expect(try await rows("SELECT * FROM read_models.price_trends_v1") == trends)
        #expect(try await rows("SELECT * FROM read_models.rate_guidance_v1") == guidance)
        #expect(!guidance.isEmpty)
        // And the projector goes on keeping it: verify rebuilds it batch by batch and compares.
        let report = try await engine.verify(PriceTrendsProjector())
        #expect(report.identical, "\(report.differences.prefix(2))")
    }
}
