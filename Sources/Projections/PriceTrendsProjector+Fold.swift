import Marketplace
import PQ

extension PriceTrendsProjector: LogFolding {
    /// `GigPosted` version 1 has the same budget and skills.
    public var foldedOlderVersions: [String: Set<Int>] { [GigEvent.GigPosted.eventType: [1]] }

    /// Seconds per million events it reads, measured on the 1.4M-event benchmark log (see
    /// BENCHMARKS.md): only the order of the folds depends on it.
    public var foldCost: Double { 7.5 }

    /// The whole log at once (``LogFolding``): a budget observation per posted gig and skill; a
    /// bid observation per placed bid (at its latest revised amount) and a clearing one per
    /// accepted bid, for each skill of a gig posted before it; then the figures of every week before the newest from them.
    public func fold(on connection: Connection) async throws {
        try await connection.execute(
            """
            INSERT INTO price_observations_v1 (series, skill, currency, gig_id, at, amount_minor, budget_min_minor, budget_max_minor)
            SELECT DISTINCT ON (e.gig_id, s.skill)
                   'budget', s.skill, e.data->'budgetMax'->>'currency', e.gig_id, e.occurred_at,
                   (e.data->'budgetMax'->>'minorUnits')::int8, (e.data->'budgetMin'->>'minorUnits')::int8,
                   (e.data->'budgetMax'->>'minorUnits')::int8
            FROM pg_temp.fold_log e, jsonb_array_elements_text(e.data->'skills') WITH ORDINALITY AS s(skill, n)
            WHERE e.event_type = \(GigEvent.GigPosted.eventType)
            ORDER BY e.gig_id, s.skill, e.global_position, s.n
            """)
        try await connection.execute(
            """
            INSERT INTO price_observations_v1 (series, skill, currency, gig_id, bid_id, at, amount_minor, budget_min_minor, budget_max_minor)
            WITH revised AS MATERIALIZED (
                SELECT DISTINCT ON (gig_id, bid_id) gig_id, bid_id,
                       amount_minor AS amount
                FROM pg_temp.fold_log WHERE event_type = \(GigEvent.BidRevised.eventType)
                ORDER BY gig_id, bid_id, global_position DESC
            ), offers AS MATERIALIZED (
                -- The fields first: the joins then move narrow rows, not whole documents.
                SELECT event_type = \(GigEvent.BidPlaced.eventType) AS placed, gig_id,
                       bid_id, occurred_at AS at,
                       coalesce(data->'amount', data->'agreedAmount')->>'currency' AS currency,
                       CASE WHEN data ? 'amount' THEN amount_minor ELSE (data->'agreedAmount'->>'minorUnits')::int8 END AS amount
                FROM pg_temp.fold_log WHERE event_type IN (\(GigEvent.BidPlaced.eventType), \(GigEvent.BidAccepted.eventType))
            )
            -- One row per key, as the domain guarantees (a bid is placed once, accepted once); a
            -- log that breaks that fails the unique index built after the fold, and the
            -- projector is then built in batches, where the first of a key wins.
            SELECT CASE WHEN o.placed THEN 'bid' ELSE 'clearing' END, b.skill, o.currency, o.gig_id, o.bid_id, o.at,
                   CASE WHEN o.placed AND r.amount IS NOT NULL THEN r.amount ELSE o.amount END,
                   b.budget_min_minor, b.budget_max_minor
            FROM offers o
            JOIN price_observations_v1 b ON b.series = 'budget' AND b.gig_id = o.gig_id
            LEFT JOIN revised r ON r.gig_id = o.gig_id AND r.bid_id = o.bid_id
            """)
        try await connection.execute(Self.fillClosedWeeks)
    }
}
