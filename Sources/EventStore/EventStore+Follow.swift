import Foundation
import PQ

extension EventStore {
    /// One gap-safe read of events as stored (see ``readStored(on:after:through:limit:filter:streams:)``).
    func readStored(after checkpoint: LogCheckpoint, filter: LogFilter, limit: Int) async throws(EventStoreError)
        -> [StoredEvent]
    {
        try await run { try await Self.readStored(on: $0, after: checkpoint, limit: limit, filter: filter) }
    }

    /// Whether events of `filter` exist after `checkpoint` that the gap-safe read cannot pass yet
    /// (an older transaction is still open): a follower that read nothing then looks again soon
    /// by itself (``LogListener/Look/heldBack``) instead of waiting for a notification that may
    /// already be spent.
    public func hasHeldBackEvents(after checkpoint: LogCheckpoint, filter: LogFilter = .all)
        async throws(EventStoreError) -> Bool
    {
        var sql: SQL = """
            SELECT EXISTS (SELECT 1 FROM ledger.events
                           WHERE (transaction_id, global_position) > (\(checkpoint.transactionID)::xid8, \(checkpoint.position))
                             AND transaction_id >= pg_snapshot_xmin(pg_current_snapshot())
            """
        filter.append(to: &sql)
        sql.append(")")
        return try await run { try await $0.query(sql).scalar(Bool.self) }
    }

    /// The checkpoint to follow from to start at the first event at or after log position
    /// `position`; the head (``headCheckpoint()``) when no event is that far.
    public func checkpoint(atPosition position: Int64) async throws(EventStoreError) -> LogCheckpoint {
        let first = try await run { connection -> LogCheckpoint? in
            guard
                let row = try await connection.query(
                    """
                    SELECT transaction_id, global_position FROM ledger.events
                    WHERE global_position >= \(position) ORDER BY global_position LIMIT 1
                    """
                ).first
            else { return nil }
            return LogCheckpoint(
                transactionID: try row.decode(UInt64.self, at: 0), position: try row.decode(Int64.self, at: 1) - 1)
        }
        if let first { return first }
        return try await headCheckpoint()
    }

    /// The checkpoint to follow from to start with the `count` latest events (by position) of
    /// `filter`; ``LogCheckpoint/start`` when there are fewer, the head when `count` is 0.
    public func checkpoint(beforeLatest count: Int, filter: LogFilter = .all) async throws(EventStoreError)
        -> LogCheckpoint
    {
        guard count > 0 else { return try await headCheckpoint() }
        var sql: SQL = "SELECT transaction_id, global_position FROM ledger.events WHERE true"
        filter.append(to: &sql)
        sql.append(" ORDER BY global_position DESC OFFSET \(count - 1) LIMIT 1")
        return try await run { connection -> LogCheckpoint in
            guard let row = try await connection.query(sql).first else { return .start }
            return LogCheckpoint(
                transactionID: try row.decode(UInt64.self, at: 0), position: try row.decode(Int64.self, at: 1) - 1)
        }
    }

    /// Just after the event with the highest position (``LogCheckpoint/start`` for an empty log):
    /// following from here prints only what comes next.
    public func headCheckpoint() async throws(EventStoreError) -> LogCheckpoint {
        try await run { connection -> LogCheckpoint in
            guard
                let row = try await connection.query(
                    "SELECT transaction_id, global_position FROM ledger.events ORDER BY global_position DESC LIMIT 1"
                ).first
            else { return .start }
            return LogCheckpoint(
                transactionID: try row.decode(UInt64.self, at: 0), position: try row.decode(Int64.self, at: 1))
        }
    }
}
