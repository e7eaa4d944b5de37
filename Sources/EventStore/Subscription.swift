import Foundation
import Logging
import PQ

/// A named, durable reader of the whole log: it catches up from its checkpoint, then follows
/// live, woken by `NOTIFY` after each append (with a slow fallback poll, never a busy loop).
///
/// Each batch is handed to the handler on a connection inside a transaction; the subscription
/// stores its new checkpoint in that same transaction, so the handler's writes and the checkpoint
/// commit together: effects happen exactly once, and after a crash it resumes where it committed.
/// The checkpoint row is locked for the batch, so two instances of one subscription never apply
/// the same batch (the second waits and then continues after the first's checkpoint).
public struct Subscription: Sendable {
    public let name: String
    public let store: EventStore
    public var batchSize: Int
    /// How long to wait for a notification before looking anyway.
    public var fallbackPoll: Duration
    public var categories: [String]?
    public var types: [String]?

    public init(
        name: String, store: EventStore, batchSize: Int = 500, fallbackPoll: Duration = .seconds(5),
        categories: [String]? = nil, types: [String]? = nil
    ) {
        self.name = name
        self.store = store
        self.batchSize = batchSize
        self.fallbackPoll = fallbackPoll
        self.categories = categories
        self.types = types
    }

    /// The stored checkpoint (``LogCheckpoint/start`` if none yet).
    public func checkpoint() async throws -> LogCheckpoint {
        try await store.pool.withConnection { try await Self.loadCheckpoint(name, on: $0, lock: false) }
    }

    /// Processes every batch available now; returns the number of events handled.
    @discardableResult
    public func catchUp(_ handler: (LogBatch, Connection) async throws -> Void) async throws -> Int {
        var total = 0
        while true {
            let handled = try await processOneBatch(handler)
            total += handled
            if handled == 0 { return total }
        }
    }

    /// Catches up, then follows the log until the task is cancelled.
    public func run(_ handler: (LogBatch, Connection) async throws -> Void) async throws {
        let listener = try await Connection.connect(store.pool.config, logger: store.logger)
        defer { Task { await listener.close() } }
        try await listener.listen(EventStore.notificationChannel)
        // At the start, too: an event appended (and announced) before LISTEN took effect may be
        // held back from the first read by an older open transaction; no NOTIFY would come for it.
        var heldBack = true
        var retryDelay = Duration.milliseconds(10)
        var heldBackFor = Duration.zero
        while !Task.isCancelled {
            let handled = try await catchUp(handler)
            if heldBack && handled == 0 {
                // Notified, yet nothing readable: an older transaction somewhere on the server is
                // still open and holds the gap-safe horizon. Look again soon, backing off to 1 s.
                // (Events outside this subscription's filter also notify: give up after one
                // fallback period and wait normally.)
                try await Task.sleep(for: retryDelay)
                heldBackFor += retryDelay
                retryDelay = min(retryDelay * 2, .seconds(1))
                if heldBackFor >= fallbackPoll { heldBack = false }
                if try await listener.waitForNotification(timeout: .zero) != nil { retryDelay = .milliseconds(10) }
                continue
            }
            heldBack = false
            retryDelay = .milliseconds(10)
            heldBackFor = .zero
            // Wait for the next append (or the fallback poll); drain coalesced notifications.
            if try await listener.waitForNotification(timeout: fallbackPoll) != nil {
                while try await listener.waitForNotification(timeout: .zero) != nil {}
                heldBack = true
            }
        }
    }

    /// One transaction: lock the checkpoint, read a batch after it, hand it over, store the new one.
    func processOneBatch(_ handler: (LogBatch, Connection) async throws -> Void) async throws -> Int {
        try await store.pool.withTransaction { connection in
            let checkpoint = try await Self.loadCheckpoint(name, on: connection, lock: true)
            let events = try await EventStore.readAll(
                on: connection, after: checkpoint, limit: batchSize, categories: categories, types: types)
            guard let last = events.last else { return 0 }
            let batch = LogBatch(events: events, next: last.checkpoint)
            try await handler(batch, connection)
            try await connection.execute(
                """
                UPDATE ledger.subscription_checkpoints
                SET transaction_id = \(batch.next.transactionID), global_position = \(batch.next.position), updated_at = now()
                WHERE subscription = \(name)
                """)
            return events.count
        }
    }

    static func loadCheckpoint(_ name: String, on connection: Connection, lock: Bool) async throws -> LogCheckpoint {
        if lock {
            try await connection.execute(
                """
                INSERT INTO ledger.subscription_checkpoints (subscription, transaction_id, global_position)
                VALUES (\(name), '0'::xid8, 0) ON CONFLICT (subscription) DO NOTHING
                """)
        }
        let sql: SQL =
            lock
            ? "SELECT transaction_id, global_position FROM ledger.subscription_checkpoints WHERE subscription = \(name) FOR UPDATE"
            : "SELECT transaction_id, global_position FROM ledger.subscription_checkpoints WHERE subscription = \(name)"
        guard let row = try await connection.query(sql).first else { return .start }
        return LogCheckpoint(
            transactionID: try row.decode(UInt64.self, at: 0), position: try row.decode(Int64.self, at: 1))
    }
}
