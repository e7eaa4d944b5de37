import Foundation
import Logging
import PQ

/// The append-only event log in PostgreSQL.
///
/// - ``append(_:)`` writes events to one or more streams atomically in one round trip, with
///   optimistic concurrency per stream and idempotency per command id.
/// - ``readStream(_:from:direction:limit:)`` reads one stream; ``readAll(after:limit:categories:types:)``
///   reads the whole log in gap-safe order from a checkpoint.
/// - ``follow(after:filter:batchSize:mode:fallbackPoll:)`` catches up from a checkpoint and then
///   follows the log live (built on ``LogListener`` and ``readStored(on:after:through:limit:filter:streams:)``).
public final class EventStore: Sendable {
    /// The channel `NOTIFY`-ed after every append; the payload is the last position written.
    public static let notificationChannel = "gigledger_events"

    /// The connection pool every read and append runs on.
    public let pool: ConnectionPool
    let logger: Logger
    /// How often an append whose connection broke is sent again (safe: it is idempotent).
    public let reconnectAttempts: Int
    /// Identical reads of followers in flight, shared (see ``readStored(after:filter:limit:)``).
    let sharedReads = SharedReads()
    /// Set when concurrent appends are coalesced into groups (see ``AppendGrouping``).
    let grouper: AppendGrouper?

    /// A store over `pool`; `reconnectAttempts` bounds how often an append is resent after its
    /// connection broke.
    /// - Parameter grouping: coalesce concurrent appends into one transaction and round trip per
    ///   group (``AppendGrouping``); `nil` (the default) sends each append on its own.
    public init(
        pool: ConnectionPool, reconnectAttempts: Int = 5, grouping: AppendGrouping? = nil,
        logger: Logger = Logger(label: "gigledger.eventstore")
    ) {
        self.pool = pool
        self.reconnectAttempts = reconnectAttempts
        self.grouper = grouping.map(AppendGrouper.init)
        self.logger = logger
    }

    /// How this store groups appends, if it does.
    public var grouping: AppendGrouping? { grouper?.grouping }

    // MARK: - Append

    /// Appends `events` to one stream.
    @discardableResult
    public func append(
        _ events: [NewEvent], to stream: StreamName, expecting expected: ExpectedVersion, metadata: EventMetadata
    ) async throws(EventStoreError) -> AppendResult {
        try await append(
            AppendRequest(
                metadata: metadata, streams: [StreamAppend(stream: stream, expected: expected, events: events)]))
    }

    /// Appends atomically to every stream of `request`: all events are stored, or none.
    ///
    /// - Throws ``EventStoreError/Code/wrongExpectedVersion`` (with ``EventStoreError/conflict``)
    ///   when a stream's version differs from its expectation; nothing is stored.
    /// - A command id that was appended before returns that first result with `duplicate == true`
    ///   and stores nothing — also when two attempts race, or the first one's reply was lost.
    /// - When the connection breaks mid-append the append is sent again on a new connection (the
    ///   command id makes that safe), up to ``reconnectAttempts`` times.
    /// - ``AppendRequest/prerequisites`` run first in the same transaction and round trip; the
    ///   first that fails is thrown (mapped like the append's own errors, the ``PQError`` as
    ///   cause) and nothing is stored.
    /// - With ``AppendGrouping`` the append may travel in one transaction with other callers'
    ///   appends; its outcome is still its own, and it returns only after that transaction committed.
    ///   An append with prerequisites is sent alone, on the single path, also by a store that
    ///   groups: a group's commands share one transaction, so its statements would not be its own.
    @discardableResult
    public func append(_ request: AppendRequest) async throws(EventStoreError) -> AppendResult {
        // An append with prerequisites travels alone: in a group they would share the group's
        // transaction (rare: a new data subject's first write).
        if let grouper, request.prerequisites.isEmpty {
            let arrays = try AppendArrays(request)
            return try await grouper.append(request, arrays: arrays, store: self).get()
        }
        return try await appendAlone(request).get()
    }

    /// One append in its own transaction and round trip (retried on a new connection when the
    /// connection broke; a retry that raced its own first attempt gets the stored first result).
    func appendAlone(_ request: AppendRequest) async -> Result<AppendResult, EventStoreError> {
        do throws(EventStoreError) {
            let statement = try Self.appendStatement(request)
            return .success(
                try await run(
                    { connection in
                        try await self.sendAppend(statement, after: request.prerequisites, on: connection)
                    },
                    recover: { error throws(EventStoreError) in
                        // A retry that raced its own first attempt fails on the stream row or on
                        // the command id; if the first attempt committed, its result is the answer.
                        let racedItself =
                            error.sqlState == .appendConflict
                            || (error.sqlState == .uniqueViolation && error.constraint == "commands_pkey")
                        return racedItself ? try await self.recordedResult(of: request.commandId) : nil
                    },
                    mapError: Self.mapAppendError))
        } catch {
            return .failure(error)
        }
    }

    /// Sends the append and, in the same round trip but its own transaction, the notification
    /// that wakes subscribers. A NOTIFY inside the append's transaction would hold PostgreSQL's
    /// global notify lock through the commit's WAL flush and serialise concurrent appends; and a
    /// NOTIFY transaction gets a transaction id, so it commits without waiting for its own flush
    /// (`synchronous_commit` off for it alone): a wake-up needs no durability, the append does.
    /// The append's ``AppendRequest/prerequisites`` run first in its transaction.
    private func sendAppend(_ statement: SQL, after prerequisites: [SQL], on connection: Connection) async throws
        -> AppendResult
    {
        let outcomes = try await connection.pipeline(
            prerequisites + [statement, Self.notifyStatement],
            mode: .transactions(sizes: [prerequisites.count + 1, 1]))
        // The first failure is the cause; the statements after it in the transaction were skipped.
        for outcome in outcomes.prefix(prerequisites.count) { _ = try outcome.get() }
        return try AppendResult(json: try outcomes[prerequisites.count].get().scalar(PGJSON.self))
    }

    package static let notifyStatement: SQL = {
        let sql: SQL = "SELECT set_config('synchronous_commit', 'off', true), pg_notify(\(notificationChannel), '')"
        return sql.prepared()
    }()

    /// Advisory-lock class of ``withStreamLock(_:_:)`` (the second key is the stream's hash).
    static let streamLockClass: Int32 = 1_196_313

    /// Runs `body` in a transaction that holds a lock on each of `streams` (taken in order), so
    /// writers that use this for the same stream take turns instead of conflicting. For hot
    /// streams after an optimistic append lost: read with `on: connection`, decide, and append
    /// with ``append(_:within:)``; subscribers are notified after the commit. This throws what
    /// `body` throws (`E`); a failure to take the locks arrives as `E.wrapping(_:)`.
    public func withStreamLock<R, E: PQErrorWrapping>(
        _ streams: [StreamName], _ body: (Connection) async throws(E) -> R
    ) async throws(E) -> R {
        try await pool.withConnection { connection throws(E) in
            let value = try await connection.withTransaction { conn throws(E) in
                let names = Set(streams).sorted().map(\.rawValue)
                do throws(PQError) {
                    // Turn-taking among lock users (also for streams that do not exist yet) ...
                    for name in names {
                        try await conn.execute(
                            "SELECT pg_advisory_xact_lock(\(Self.streamLockClass), hashtext(\(name)))")
                    }
                    // ... and the stream rows themselves, so no optimistic append slips in between
                    // this transaction's read and its append.
                    try await conn.execute("SELECT ledger.lock_streams(\(names)::text[])")
                } catch {
                    throw E.wrapping(error)
                }
                return try await body(conn)
            }
            _ = try? await connection.query(Self.notifyStatement)
            return value
        }
    }

    /// Appends inside the caller's transaction on `connection` (see ``withStreamLock(_:_:)``),
    /// after its ``AppendRequest/prerequisites``. The caller commits; nothing is stored if it
    /// rolls back.
    @discardableResult
    public func append(_ request: AppendRequest, within connection: Connection) async throws(EventStoreError)
        -> AppendResult
    {
        let statement = try Self.appendStatement(request)
        let stored: PGJSON
        do {
            for prerequisite in request.prerequisites { try await connection.execute(prerequisite) }
            stored = try await connection.query(statement).scalar(PGJSON.self)
        } catch {
            throw Self.mapAppendError(error)
        }
        return try AppendResult(json: stored)
    }

    static func appendStatement(_ request: AppendRequest) throws(EventStoreError) -> SQL {
        appendStatement(request.commandId, try AppendArrays(request))
    }

    static func appendStatement(_ commandId: UUID, _ arrays: AppendArrays) -> SQL {
        let sql: SQL = """
            SELECT ledger.append(\(bind: PGBinary.uuid(commandId)), \(bind: PGBinary.textArray(arrays.streams)), \
            \(bind: PGBinary.int8Array(arrays.expected)), \(bind: PGBinary.int4Array(arrays.eventStreams)), \
            \(bind: PGBinary.textArray(arrays.types)), \(bind: PGBinary.int4Array(arrays.schemaVersions)), \
            \(bind: PGBinary.jsonbArray(arrays.data)), \(bind: PGBinary.jsonbArray(arrays.metadata)), \
            \(bind: PGBinary.timestamptzArray(arrays.occurred)))
            """
        return sql.prepared()
    }

    static func mapAppendError(_ error: PQError) -> EventStoreError {
        if error.sqlState == .appendConflict, let detail = error.server?.detail,
            let payload = try? JSONDecoder().decode(ConflictPayload.self, from: Data(detail.utf8)),
            let stream = try? StreamName(validating: payload.stream)
        {
            let conflict = EventStoreError.Conflict(
                stream: stream, expected: ExpectedVersion(code: payload.expected), actual: payload.actual)
            return EventStoreError(
                .wrongExpectedVersion,
                "Stream \(stream) is at version \(payload.actual), but the append expected \(conflict.expected). "
                    + "Nothing was stored: re-read the stream, decide again, and append with the version read.",
                conflict: conflict, cause: error)
        }
        return EventStoreError.from(error)
    }

    private struct ConflictPayload: Decodable {
        let stream: String
        let expected: Int64
        let actual: Int64
    }

    // MARK: - Reading

    /// Which way ``readStream(_:from:direction:limit:on:)`` reads: ascending or descending
    /// versions.
    public enum Direction: Sendable { case forward, backward }

    /// Reads up to `limit` events of `stream`, forward from version `from` (inclusive) or backward
    /// from it (`from: nil` backward means from the last event).
    public func readStream(
        _ stream: StreamName, from version: Int64? = nil, direction: Direction = .forward, limit: Int = 1000,
        on connection: Connection? = nil
    ) async throws(EventStoreError) -> [RecordedEvent] {
        let limit = max(0, limit)
        let sql: SQL
        switch direction {
        case .forward:
            sql = """
                SELECT \(RecordedEvent.columns) FROM ledger.events
                WHERE stream_id = \(stream.rawValue) AND stream_version >= \(version ?? 1)
                ORDER BY stream_version LIMIT \(limit)
                """
        case .backward:
            sql = """
                SELECT \(RecordedEvent.columns) FROM ledger.events
                WHERE stream_id = \(stream.rawValue) AND stream_version <= \(version ?? Int64.max)
                ORDER BY stream_version DESC LIMIT \(limit)
                """
        }
        // Prepared: planning a read of the partitioned log costs more than running it (every
        // partition's indexes are considered), and every command reads its streams.
        if let connection {
            do { return try await connection.query(sql.prepared()).rows.map(RecordedEvent.init(row:)) } catch {
                throw Self.mapReadError(error)
            }
        }
        return try await readEvents(sql.prepared())
    }

    /// Maps any error of a read to ``EventStoreError`` (by SQLSTATE, never by message text).
    static func mapReadError(_ error: any Error) -> EventStoreError {
        switch error {
        case let error as EventStoreError: error
        case let error as PQError: EventStoreError.from(error)
        default: EventStoreError(.database, "\(error)")
        }
    }

    /// The stream's current version, or `nil` if it does not exist.
    public func streamVersion(_ stream: StreamName) async throws(EventStoreError) -> Int64? {
        try await run {
            try await $0.query("SELECT version FROM ledger.streams WHERE stream_id = \(stream.rawValue)").first?.decode(
                Int64.self, at: 0)
        }
    }

    /// Reads the whole log in gap-safe order after `checkpoint`: at most `limit` events, only
    /// from transactions older than every transaction still running, so no event that commits
    /// later can appear before the returned checkpoint. Optionally only some categories or types.
    public func readAll(
        after checkpoint: LogCheckpoint = .start, limit: Int = 1000, categories: [String]? = nil, types: [String]? = nil
    ) async throws(EventStoreError) -> LogBatch<RecordedEvent> {
        let events = try await run {
            try await Self.readAll(on: $0, after: checkpoint, limit: limit, categories: categories, types: types)
        }
        return LogBatch(events: events, next: events.last?.checkpoint ?? checkpoint)
    }

    /// ``readAll(after:limit:categories:types:)`` on a given connection (inside its transaction).
    /// `through` stops at a checkpoint (inclusive); `streams` keeps only those streams' events.
    package static func readAll(
        on connection: Connection, after checkpoint: LogCheckpoint, through end: LogCheckpoint? = nil, limit: Int,
        categories: [String]? = nil, types: [String]? = nil, streams: [String]? = nil
    ) async throws -> [RecordedEvent] {
        try await readStored(
            on: connection, after: checkpoint, through: end, limit: limit,
            filter: LogFilter(categories: categories, types: types), streams: streams
        ).map { event throws(EventStoreError) in try RecordedEvent(event) }
    }

    /// The gap-safe read itself, events as stored (see ``StoredEvent``): at most `limit` events
    /// after `checkpoint` in `(transaction_id, global_position)` order, only from transactions
    /// older than every transaction still running.
    ///
    /// On the partitioned log (sql/0012) this is a Merge Append of every partition's
    /// `(transaction_id, global_position)` index, which `transaction_id` cannot prune, and
    /// planning it per batch cost more than running it (EXPLAIN ANALYZE, BENCHMARKS.md): the
    /// statement is prepared, so PostgreSQL plans it once per connection and filter shape (a
    /// generic plan after five runs) instead of per batch. A bound `global_position <= the
    /// sequence's last value` would prune the empty partitions made ahead, but it turned the
    /// unpartitioned plan into a scan of the position index and a sort (88 ms instead of 0.6
    /// ms per batch), so it is not there.
    package static func readStored(
        on connection: Connection, after checkpoint: LogCheckpoint, through end: LogCheckpoint? = nil, limit: Int,
        filter: LogFilter = .all, streams: [String]? = nil
    ) async throws -> [StoredEvent] {
        var sql: SQL = """
            SELECT \(StoredEvent.columns) FROM ledger.events
            WHERE (transaction_id, global_position) > (\(checkpoint.transactionID)::xid8, \(checkpoint.position))
              AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            """
        if let end {
            sql.append(" AND (transaction_id, global_position) <= (\(end.transactionID)::xid8, \(end.position))")
        }
        if let streams { sql.append(" AND stream_id = ANY(\(streams)::text[])") }
        filter.append(to: &sql)
        sql.append(" ORDER BY transaction_id, global_position LIMIT \(max(0, limit))")
        // Prepared (one plan per shape of filter and connection): the read runs in every batch of
        // every follower, and planning it over the log's partitions costs more than running it.
        return try await connection.query(sql.prepared()).rows.map(StoredEvent.init(row:))
    }

    private func readEvents(_ sql: SQL) async throws(EventStoreError) -> [RecordedEvent] {
        try await run { try await $0.query(sql).rows.map(RecordedEvent.init(row:)) }
    }

    /// Runs `body` on a pooled connection, mapping errors to ``EventStoreError``. When the
    /// connection broke, `body` runs again on a new one, up to ``reconnectAttempts`` times, so it
    /// must be idempotent (reads are; appends are, by command id). `recover` may turn a database
    /// error into a result (see ``append(_:)``); `mapError` maps the rest.
    func run<R: Sendable>(
        _ body: (Connection) async throws -> R,
        recover: ((PQError) async throws(EventStoreError) -> R?)? = nil,
        mapError: (PQError) -> EventStoreError = EventStoreError.from
    ) async throws(EventStoreError) -> R {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await pool.withConnection(body)
            } catch let error as EventStoreError {
                throw error
            } catch let error as PQError {
                if let recover, let value = try await recover(error) { return value }
                if error.isConnectionLost && attempt <= reconnectAttempts && !Task.isCancelled {
                    logger.info("retrying on a new connection", metadata: ["eventstore.attempt": "\(attempt)"])
                    try? await Task.sleep(for: .milliseconds(min(2000, 50 << min(attempt, 6))))
                    continue
                }
                throw mapError(error)
            } catch {
                throw EventStoreError(.database, "\(error)")
            }
        }
    }
}

extension EventStore {
    /// The first result stored for `commandId`, if an append with that id ever committed.
    public func recordedResult(of commandId: UUID) async throws(EventStoreError) -> AppendResult? {
        let stored = try await run {
            try await $0.query("SELECT result FROM ledger.commands WHERE command_id = \(commandId)").first?.decode(
                PGJSON.self, at: 0)
        }
        guard let stored else { return nil }
        return try AppendResult(json: stored).markedDuplicate()
    }
}

/// The per-stream and per-event arrays of one validated append, as `ledger.append` takes them
/// (streams in ascending order; each event names its stream by 1-based index).
struct AppendArrays: Sendable {
    var streams: [String] = []
    var expected: [Int64] = []
    var eventStreams: [Int32] = []
    var types: [String] = []
    var schemaVersions: [Int32] = []
    var data: [String] = []
    var metadata: [String] = []
    var occurred: [Date?] = []

    /// No streams and no events (the start of a group's concatenated arrays).
    init() {}

    init(_ request: AppendRequest) throws(EventStoreError) {
        let groups = request.streams.sorted { $0.stream < $1.stream }
        guard !groups.isEmpty else {
            throw EventStoreError(
                .invalidAppend, "An append needs at least one stream with events; nothing was stored.")
        }
        for (index, group) in groups.enumerated() {
            if group.events.isEmpty {
                throw EventStoreError(
                    .invalidAppend,
                    "The append names stream \(group.stream) without events; drop it or give it events. Nothing was stored."
                )
            }
            if index > 0 && groups[index - 1].stream == group.stream {
                throw EventStoreError(
                    .invalidAppend,
                    "The append names stream \(group.stream) twice; put all its events in one StreamAppend. Nothing was stored."
                )
            }
            if case .exactly(let version) = group.expected, version < 1 {
                throw EventStoreError(
                    .invalidAppend,
                    "Expected version \(version) for \(group.stream) is not valid: use .noStream for a new stream, or a version ≥ 1."
                )
            }
        }
        let metadata: PGJSON
        do { metadata = try PGJSON(encoding: request.metadata) } catch {
            throw EventStoreError(.invalidAppend, "The event metadata could not be encoded as JSON: \(error).")
        }
        for (index, group) in groups.enumerated() {
            streams.append(group.stream.rawValue)
            expected.append(group.expected.code)
            for event in group.events {
                guard event.schemaVersion >= 1, event.schemaVersion <= Int(Int32.max) else {
                    throw EventStoreError(
                        .invalidAppend,
                        "Event \(event.type) has schema version \(event.schemaVersion); versions start at 1.")
                }
                eventStreams.append(Int32(index + 1))
                types.append(event.type)
                schemaVersions.append(Int32(event.schemaVersion))
                data.append(event.data.text)
                self.metadata.append(metadata.text)
                occurred.append(event.occurredAt)
            }
        }
    }
}
