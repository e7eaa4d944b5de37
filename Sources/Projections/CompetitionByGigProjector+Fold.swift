import Marketplace
import PQ

extension CompetitionByGigProjector: LogFolding {
    /// `GigPosted` version 1 has the same budget, skills and client.
    public var foldedOlderVersions: [String: Set<Int>] { [GigEvent.GigPosted.eventType: [1]] }

    /// Seconds per million events it reads, measured on the 1.4M-event benchmark log (see
    /// BENCHMARKS.md): only the order of the folds depends on it.
    public var foldCost: Double { 6 }

    /// The whole log at once (``LogFolding``): each bid's placement at its latest revised
    /// amount, live unless withdrawn or declined or its gig ended; then each gig's first posting
    /// with its first terminal status and the statistics over its bids, computed as the
    /// incremental projector computes them.
    public func fold(on connection: Connection) async throws {
        try await connection.execute(
            """
            INSERT INTO competition_bids_v1 (gig_id, bid_id, freelancer_id, amount_minor, placed_at, live)
            -- A bid is placed once (the domain's rule): a log that breaks it fails the primary key
            -- built after the fold, and the projector is then built in batches.
            -- The placements are read once and probe three small hash tables (the ids were cast
            -- when the log was copied): no sort of the placements.
            WITH revised AS (
                SELECT DISTINCT ON (gig_id, bid_id) gig_id, bid_id,
                       amount_minor AS amount
                FROM pg_temp.fold_log WHERE event_type = \(GigEvent.BidRevised.eventType)
                ORDER BY gig_id, bid_id, global_position DESC
            ), dropped AS (
                SELECT DISTINCT gig_id, bid_id
                FROM pg_temp.fold_log WHERE event_type IN (\(GigEvent.BidWithdrawn.eventType), \(GigEvent.BidDeclined.eventType))
            ), ended AS (
                SELECT DISTINCT gig_id
                FROM pg_temp.fold_log WHERE event_type IN (\(GigEvent.BidAccepted.eventType), \(GigEvent.GigClosed.eventType))
            )
            SELECT p.gig_id, p.bid_id, p.freelancer_id, coalesce(r.amount, p.amount_minor), p.occurred_at,
                   d.bid_id IS NULL AND e.gig_id IS NULL
            FROM pg_temp.fold_log p
            LEFT JOIN revised r USING (gig_id, bid_id)
            LEFT JOIN dropped d USING (gig_id, bid_id)
            LEFT JOIN ended e USING (gig_id)
            WHERE p.event_type = \(GigEvent.BidPlaced.eventType)
            """)
        try await connection.execute(
            """
            INSERT INTO competition_gigs_v1
                (gig_id, client_id, currency, budget_min_minor, budget_max_minor, skills, posted_at, status,
                 bids_total, bids_live, unique_bidders, first_bid_at, min_bid_minor, median_bid_minor, max_bid_minor,
                 median_to_budget_max, bucket)
            WITH posted AS (
                SELECT DISTINCT ON (gig_id) gig_id, (data->>'clientId')::uuid AS client_id,
                       data->'budgetMax'->>'currency' AS currency, (data->'budgetMin'->>'minorUnits')::int8 AS budget_min,
                       (data->'budgetMax'->>'minorUnits')::int8 AS budget_max,
                       ARRAY(SELECT jsonb_array_elements_text(data->'skills')) AS skills, occurred_at
                FROM pg_temp.fold_log WHERE event_type = \(GigEvent.GigPosted.eventType)
                ORDER BY gig_id, global_position
            ), terminal AS (
                SELECT DISTINCT ON (gig_id) gig_id,
                       CASE event_type WHEN \(GigEvent.BidAccepted.eventType) THEN 'awarded' ELSE 'closed' END AS status
                FROM pg_temp.fold_log WHERE event_type IN (\(GigEvent.BidAccepted.eventType), \(GigEvent.GigClosed.eventType))
                ORDER BY gig_id, global_position
            ), s AS (
                SELECT gig_id, count(*)::int AS total, (count(*) FILTER (WHERE live))::int AS live,
                       count(DISTINCT freelancer_id)::int AS bidders, min(placed_at) AS first_at,
                       min(amount_minor) AS min_amount, max(amount_minor) AS max_amount,
                       (percentile_cont(0.5) WITHIN GROUP (ORDER BY amount_minor))::numeric(20, 1) AS median
                FROM competition_bids_v1 GROUP BY gig_id
            )
            SELECT p.gig_id, p.client_id, p.currency, p.budget_min, p.budget_max, p.skills, p.occurred_at,
                   coalesce(t.status, 'open'), coalesce(s.total, 0), coalesce(s.live, 0), coalesce(s.bidders, 0), s.first_at,
                   CASE WHEN s.total >= 5 THEN s.min_amount END,
                   CASE WHEN s.total >= 5 THEN s.median END,
                   CASE WHEN s.total >= 5 THEN s.max_amount END,
                   CASE WHEN s.total >= 5 AND p.budget_max > 0 THEN round(s.median / p.budget_max, 4) END,
                   CASE WHEN coalesce(s.total, 0) < 5 THEN '<5' WHEN s.total < 10 THEN '5-10' WHEN s.total < 15 THEN '10-15'
                        WHEN s.total < 20 THEN '15-20' WHEN s.total < 50 THEN '20-50' ELSE '50+' END
            FROM posted p
            LEFT JOIN terminal t USING (gig_id)
            LEFT JOIN s USING (gig_id)
            """)
    }
}
