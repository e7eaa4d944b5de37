import Logging

// swift-format-ignore: AmbiguousTrailingClosureOverload
/// A bounded pool of connections lent to concurrent callers.
///
/// ```swift
/// let pool = ConnectionPool(config: .resolve(), maxConnections: 8)
/// let n = try await pool.withConnection { try await $0.query("SELECT count(*) FROM t").scalar(Int.self) }
/// ```
///
/// Connections open lazily, up to `maxConnections`; callers beyond that wait in order until one
/// is returned, or fail with ``PQError/Code/poolTimeout``. A connection that broke (server
/// restart, `pg_terminate_backend`, network) is noticed — on return, or by a cheap check before
/// it is lent again — and replaced by a new one.
public final class ConnectionPool: Sendable {
    /// What every pooled connection is opened with.
    public let config: ConnectionConfig
    /// The most connections open at once (at least 1).
    public let maxConnections: Int
    /// How long a caller waits for a free connection before ``PQError/Code/poolTimeout``.
    public let acquireTimeout: Duration
    let logger: Logger
    let state: PoolState

    /// A pool of up to `maxConnections` connections (at least 1) to `config`; none is opened until
    /// the first is needed.
    public init(
        config: ConnectionConfig, maxConnections: Int = 8, acquireTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "gigledger.pq.pool")
    ) {
        self.config = config
        self.maxConnections = max(1, maxConnections)
        self.acquireTimeout = acquireTimeout
        self.logger = logger
        self.state = PoolState(capacity: max(1, maxConnections))
    }

    // (swift-format's AmbiguousTrailingClosureOverload is off for this type: the two overloads
    // differ in the body's error type: a body declared `throws(E)` picks this one, any other the
    // untyped one, so Swift resolves every trailing-closure call unambiguously.)
    /// Lends a connection to `body` and takes it back afterwards, whatever happens.
    ///
    /// Typed throws: a body declared `throws(E)`, where `E` can carry a database failure
    /// (``PQErrorWrapping``: `PQError`, `EventStoreError`, `CommandError`), makes this throw `E`
    /// too — the pool's own failures (no connection could be opened or became free in time, the
    /// pool is closed) arrive wrapped by `E.wrapping(_:)`. A body without a declared error type
    /// throws `any Error`, and so does this.
    public nonisolated(nonsending) func withConnection<R, E: PQErrorWrapping>(
        _ body: (Connection) async throws(E) -> R
    ) async throws(E) -> R {
        try await lend(wrapping: E.wrapping, body)
    }

    /// Lends a connection to a body that may throw any error (see the typed overload).
    public nonisolated(nonsending) func withConnection<R>(
        _ body: (Connection) async throws -> R
    ) async throws -> R {
        try await lend(wrapping: { $0 }, body)
    }

    /// Runs `body` in a transaction on a pooled connection (see `Connection.withTransaction`);
    /// typed like `withConnection`.
    public nonisolated(nonsending) func withTransaction<R, E: PQErrorWrapping>(
        _ level: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (Connection) async throws(E) -> R
    ) async throws(E) -> R {
        try await lend(
            wrapping: E.wrapping,
            { connection throws(E) in try await connection.withTransaction(level, readOnly: readOnly, body) })
    }

    /// Runs `body` in a transaction on a pooled connection, for a body that may throw any error.
    public nonisolated(nonsending) func withTransaction<R>(
        _ level: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (Connection) async throws -> R
    ) async throws -> R {
        try await lend(
            wrapping: { $0 }, { connection in try await connection.withTransaction(level, readOnly: readOnly, body) })
    }

    /// Lends a connection to `body` only if one is free now (idle, or room to open one): nil,
    /// without waiting and without running `body`, when all are in use. For optional helpers
    /// (a parallel read that can do its work on fewer connections), which must never wait for a
    /// connection while their caller holds one. A connection that cannot be opened throws.
    public nonisolated(nonsending) func withConnectionIfFree<R>(
        _ body: (Connection) async throws -> R
    ) async throws -> R? {
        guard let connection = try await borrowIfFree() else { return nil }
        do {
            let value = try await body(connection)
            await giveBack(connection)
            return value
        } catch {
            await giveBack(connection)
            throw error
        }
    }

    /// The one lending path: borrow (a failure is wrapped into `E`), run, give back.
    private nonisolated(nonsending) func lend<R, E: Error>(
        wrapping: (PQError) -> E, _ body: (Connection) async throws(E) -> R
    ) async throws(E) -> R {
        let connection: Connection
        do { connection = try await borrow() } catch { throw wrapping(error) }
        do {
            let value = try await body(connection)
            await giveBack(connection)
            return value
        } catch {
            await giveBack(connection)
            throw error
        }
    }

    /// Runs one statement on a pooled connection.
    @discardableResult
    public func query(_ sql: SQL) async throws(PQError) -> QueryResult {
        try await withConnection { connection throws(PQError) in try await connection.query(sql) }
    }

    /// Closes idle connections and refuses new borrowers; lent connections close when returned.
    public func close() async {
        let idle = await state.shutDown()
        for connection in idle { await connection.close() }
    }

    /// Connections currently open (idle or lent) and idle.
    public func counts() async -> (open: Int, idle: Int) { await state.counts() }

    func borrow() async throws(PQError) -> Connection {
        while true {
            if let connection = try await open(try await state.acquire(timeout: acquireTimeout)) { return connection }
        }
    }

    /// ``borrow()`` without waiting: nil when every connection is lent.
    func borrowIfFree() async throws(PQError) -> Connection? {
        while let lease = try await state.acquireIfFree() {
            if let connection = try await open(lease) { return connection }
        }
        return nil
    }

    /// The connection a lease stands for: an idle one if it is still alive (`nil`, after
    /// replacing it in the count, if it broke), or a new one.
    private func open(_ lease: PoolState.Lease) async throws(PQError) -> Connection? {
        switch lease {
        case .existing(let connection):
            if await connection.checkAlive() { return connection }
            let pid = await connection.backendPID
            logger.info("pool replaces a broken connection", metadata: ["pq.backend_pid": "\(pid)"])
            await connection.close()
            await state.discarded()
            return nil
        case .create:
            do {
                return try await Connection.connect(config, logger: logger)
            } catch {
                await state.discarded()
                throw error
            }
        }
    }

    func giveBack(_ connection: Connection) async {
        // A transaction the borrower left open (it threw between BEGIN and COMMIT) is rolled back.
        if await connection.readyForReuse() {
            await state.release(connection)
        } else {
            await connection.close()
            await state.discarded()
        }
    }
}

/// The pool's bookkeeping: idle connections, the open count, and waiting borrowers in order.
actor PoolState {
    enum Lease: Sendable {
        case existing(Connection)
        /// Room for one more connection: the borrower opens it.
        case create
    }

    private let capacity: Int
    private var idle: [Connection] = []
    private var open = 0
    private var closed = false
    private var nextWaiter = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<Result<Lease, PQError>, Never>)] = []

    init(capacity: Int) { self.capacity = capacity }

    func acquire(timeout: Duration) async throws(PQError) -> Lease {
        if closed { throw PQError(.poolClosed, "The connection pool is closed.") }
        if let connection = idle.popLast() { return .existing(connection) }
        if open < capacity {
            open += 1
            return .create
        }
        nextWaiter += 1
        let id = nextWaiter
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.fail(
                id,
                PQError(
                    .poolTimeout,
                    "No database connection became free within \(timeout) (all \(self?.capacity ?? 0) are in use). "
                        + "Use a larger pool, or find what holds connections for so long."))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task {
                await self.fail(id, PQError(.cancelled, "Stopped waiting for a connection: the task was cancelled."))
            }
        }.get()
    }

    /// A lease if one is free now; nil when every connection is lent (nobody waits).
    func acquireIfFree() throws(PQError) -> Lease? {
        if closed { throw PQError(.poolClosed, "The connection pool is closed.") }
        if let connection = idle.popLast() { return .existing(connection) }
        guard open < capacity else { return nil }
        open += 1
        return .create
    }

    private func fail(_ id: Int, _ error: PQError) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: .failure(error))
    }

    func release(_ connection: Connection) {
        if !waiters.isEmpty {
            waiters.removeFirst().continuation.resume(returning: .success(.existing(connection)))
        } else if closed {
            open -= 1
            Task { await connection.close() }
        } else {
            idle.append(connection)
        }
    }

    /// A lent connection was closed instead of returned, or could not be opened.
    func discarded() {
        if !waiters.isEmpty && !closed {
            waiters.removeFirst().continuation.resume(returning: .success(.create))
        } else {
            open -= 1
        }
    }

    func shutDown() -> [Connection] {
        closed = true
        for waiter in waiters {
            waiter.continuation.resume(returning: .failure(PQError(.poolClosed, "The connection pool was closed.")))
        }
        waiters.removeAll()
        let all = idle
        open -= idle.count
        idle.removeAll()
        return all
    }

    func counts() -> (open: Int, idle: Int) { (open, idle.count) }
}
