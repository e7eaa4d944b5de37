import Marketplace
import PQ

extension TimersProjector: LogFolding {
    /// `GigPosted` version 1 has the deadline too.
    public var foldedOlderVersions: [String: Set<Int>] { [GigEvent.GigPosted.eventType: [1]] }

    /// Seconds per million events it reads, measured on the 1.4M-event benchmark log (see
    /// BENCHMARKS.md): only the order of the folds depends on it.
    public var foldCost: Double { 5 }

    /// The whole log at once (``LogFolding``). Each row is what its stream's events leave after
    /// the incremental projector's fold, read from the last event of each kind in stream order:
    /// a gig's deadline stands unless its last timer event ended it; a contract's pending
    /// delivery is its last delivery event if that is a submission (any later approval, request
    /// for changes, end, or ruling other than "resume work" clears it), and it is on hold when
    /// the last dispute-or-clearing event opened a dispute. A submission with no start before it
    /// fails the fold, as it stops the incremental projector.
    public func fold(on connection: Connection) async throws {
        typealias C = ContractEvent
        let unstarted =
            try await connection.query(
                """
                SELECT count(*) FROM pg_temp.fold_log d
                WHERE d.event_type = \(C.DeliverySubmitted.eventType)
                  AND NOT EXISTS (SELECT 1 FROM pg_temp.fold_log s
                                  WHERE s.event_type = \(C.ContractStarted.eventType) AND s.data->>'contractId' = d.data->>'contractId'
                                    AND s.global_position < d.global_position)
                """
            ).first?.decode(Int64.self, at: 0) ?? 0
        guard unstarted == 0 else {
            throw FoldRefused(description: "\(unstarted) DeliverySubmitted events have no ContractStarted before them")
        }
        try await connection.execute(
            """
            INSERT INTO timers_v1 (kind, subject_id, delivery_id, due_at, review_window_days, review_ends_at, on_hold, stream_version)
            SELECT DISTINCT ON (gig_id) 'gig_expiry', gig_id, NULL::uuid,
                   CASE WHEN event_type = \(GigEvent.GigPosted.eventType) THEN (data->>'biddingClosesAt')::timestamptz END,
                   NULL::int, NULL::timestamptz, false, stream_version
            FROM pg_temp.fold_log
            WHERE event_type IN (\(GigEvent.GigPosted.eventType), \(GigEvent.BidAccepted.eventType), \(GigEvent.GigClosed.eventType))
            ORDER BY gig_id, stream_version DESC
            """)
        try await connection.execute(
            """
            INSERT INTO timers_v1 (kind, subject_id, delivery_id, due_at, review_window_days, review_ends_at, on_hold, stream_version)
            WITH c AS (
                SELECT contract_id, event_type, data, stream_version
                FROM pg_temp.fold_log WHERE event_type = ANY(\(Self.contractEvents.sorted())::text[])
            ), latest AS (
                SELECT contract_id, max(stream_version) AS stream_version FROM c GROUP BY contract_id
            ), started AS (
                SELECT DISTINCT ON (contract_id) contract_id, (data->>'reviewWindowDays')::int AS days
                FROM c WHERE event_type = \(C.ContractStarted.eventType) ORDER BY contract_id, stream_version DESC
            ), delivery AS (
                SELECT DISTINCT ON (contract_id) contract_id, event_type, data
                FROM c
                WHERE event_type IN (\(C.DeliverySubmitted.eventType), \(C.ChangesRequested.eventType), \(C.DeliveryApproved.eventType),
                                     \(C.ContractCompleted.eventType), \(C.ContractCancelled.eventType))
                   OR (event_type = \(C.DisputeResolved.eventType) AND data->>'resolution' <> 'resumeWork')
                ORDER BY contract_id, stream_version DESC
            ), hold AS (
                SELECT DISTINCT ON (contract_id) contract_id, event_type = \(C.DisputeOpened.eventType) AS on_hold
                FROM c
                WHERE event_type IN (\(C.DisputeOpened.eventType), \(C.DisputeResolved.eventType), \(C.ChangesRequested.eventType),
                                     \(C.DeliveryApproved.eventType), \(C.ContractCompleted.eventType), \(C.ContractCancelled.eventType))
                ORDER BY contract_id, stream_version DESC
            ), pending AS (
                SELECT d.contract_id, (d.data->>'deliveryId')::uuid AS delivery_id,
                       (d.data->>'submittedAt')::timestamptz + make_interval(secs => s.days * 86400) AS ends_at
                FROM delivery d JOIN started s USING (contract_id)
                WHERE d.event_type = \(C.DeliverySubmitted.eventType)
            )
            SELECT 'delivery_review', l.contract_id, p.delivery_id,
                   CASE WHEN coalesce(h.on_hold, false) THEN NULL ELSE p.ends_at END,
                   s.days, p.ends_at, coalesce(h.on_hold, false), l.stream_version
            FROM latest l
            LEFT JOIN started s USING (contract_id)
            LEFT JOIN pending p USING (contract_id)
            LEFT JOIN hold h USING (contract_id)
            """)
    }
}
