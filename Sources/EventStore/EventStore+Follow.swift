import Foundation
import PQ
import Synchronization

extension EventStore {
    /// One gap-safe read of events as stored (see ``readStored(on:after:through:limit:filter:streams:)``).
    ///
    /// Followers at the same checkpoint with the same filter (say, many HTTP event streams
    /// following the head) share one read: a read asked while the same one is in flight waits
    /// for its answer instead of sending another query. Gap-safety is unchanged: the shared
    /// answer is a gap-safe read from that checkpoint, begun no earlier than the oldest of them;
    /// one that came back empty sends the follower to ``hasEvents(after:filter:)``, which asks
    /// the database itself, so an event committed just after the shared read began is looked for
    /// again at once rather than missed.
    func readStored(after checkpoint: LogCheckpoint, filter: LogFilter, limit: Int) async throws(EventStoreError)
        -> [StoredEvent]
    {
        let key = SharedReads.Key(after: checkpoint, filter: filter, limit: limit)
        let task = sharedReads.task(for: key) {
            try await self.run { try await Self.readStored(on: $0, after: checkpoint, limit: limit, filter: filter) }
        }
        do {
            return try await task.value
        } catch let error as EventStoreError {
            throw error
        } catch {
            throw EventStoreError(.database, "A read of the log failed: \(error).")
        }
    }

    /// Whether events of `filter` exist after `checkpoint` that the gap-safe read cannot pass yet
    /// (an older transaction is still open): a follower that read nothing then looks again soon
    /// by itself (``LogListener/Look/heldBack``) instead of waiting for a notification that may
    /// already be spent.
    public func hasHeldBackEvents(after checkpoint: LogCheckpoint, filter: LogFilter = .all)
        async throws(EventStoreError) -> Bool
    {
        try await hasEvents(after: checkpoint, filter: filter, heldBackOnly: true)
    }

    /// Whether events of `filter` exist after `checkpoint`, asked by a follower whose gap-safe
    /// read just returned nothing: such events are held back by an older open transaction, or
    /// that transaction has ended since the read; either way the follower looks again soon by
    /// itself. (Asking ``hasHeldBackEvents(after:filter:)`` there would race: the transaction
    /// holding them may end between the read and the question, and the follower would then wait
    /// for a notification it has already consumed.)
    func hasEvents(after checkpoint: LogCheckpoint, filter: LogFilter, heldBackOnly: Bool = false)
        async throws(EventStoreError) -> Bool
    {
        // The first such event in log order, through the log-order index. Not `EXISTS`:
        // PostgreSQL drops an `ORDER BY` inside `EXISTS`, and where it guesses that many rows
        // match the row comparison (a generic plan, a correlated checkpoint) it plans a
        // sequential scan of the whole log.
        var sql: SQL = """
            SELECT (SELECT 1 FROM ledger.events
                    WHERE (transaction_id, global_position) > (\(checkpoint.transactionID)::xid8, \(checkpoint.position))
            """
        if heldBackOnly { sql.append(" AND transaction_id >= pg_snapshot_xmin(pg_current_snapshot())") }
        filter.append(to: &sql)
        sql.append(" ORDER BY transaction_id, global_position LIMIT 1) IS NOT NULL")
        return try await run { try await $0.query(sql.prepared()).scalar(Bool.self) }
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

/// The reads of the log in flight, by what they ask, so that identical reads share one query
/// (see ``EventStore/readStored(after:filter:limit:)``).
final class SharedReads: Sendable {
    struct Key: Hashable, Sendable {
        let after: LogCheckpoint
        let filter: LogFilter
        let limit: Int
    }

    private let inFlight = Mutex<[Key: Task<[StoredEvent], any Error>]>([:])

    /// The read in flight for `key`, or a new one running `read` (forgotten once it ends).
    func task(for key: Key, _ read: @escaping @Sendable () async throws -> [StoredEvent]) -> Task<
        [StoredEvent], any Error
    > {
        inFlight.withLock { tasks in
            if let running = tasks[key] { return running }
            let task = Task<[StoredEvent], any Error> { [self] in
                defer { _ = inFlight.withLock { $0.removeValue(forKey: key) } }
                return try await read()
            }
            tasks[key] = task
            return task
        }
    }
}
