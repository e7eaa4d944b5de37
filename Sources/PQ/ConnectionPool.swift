import Logging

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
    public let config: ConnectionConfig
    public let maxConnections: Int
    public let acquireTimeout: Duration
    let logger: Logger
    let state: PoolState

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

    /// Lends a connection to `body` and takes it back afterwards, whatever happens.
    public nonisolated(nonsending) func withConnection<R>(
        _ body: (Connection) async throws -> R
    ) async throws -> R {
        let connection = try await borrow()
        do {
            let value = try await body(connection)
            await giveBack(connection)
            return value
        } catch {
            await giveBack(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction on a pooled connection (see ``Connection/withTransaction(_:readOnly:isolation:_:)``).
    public nonisolated(nonsending) func withTransaction<R>(
        _ level: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (Connection) async throws -> R
    ) async throws -> R {
        let connection = try await borrow()
        do {
            let value = try await connection.withTransaction(level, readOnly: readOnly, body)
            await giveBack(connection)
            return value
        } catch {
            await giveBack(connection)
            throw error
        }
    }

    /// Runs one statement on a pooled connection.
    @discardableResult
    public func query(_ sql: SQL) async throws -> QueryResult {
        try await withConnection { try await $0.query(sql) }
    }

    /// Closes idle connections and refuses new borrowers; lent connections close when returned.
    public func close() async {
        let idle = await state.shutDown()
        for connection in idle { await connection.close() }
    }

    /// Connections currently open (idle or lent) and idle.
    public func counts() async -> (open: Int, idle: Int) { await state.counts() }

    func borrow() async throws -> Connection {
        while true {
            let lease = try await state.acquire(timeout: acquireTimeout)
            switch lease {
            case .existing(let connection):
                if await connection.checkAlive() { return connection }
                let pid = await connection.backendPID
                logger.info("pool replaces a broken connection", metadata: ["pq.backend_pid": "\(pid)"])
                await connection.close()
                await state.discarded()
            case .create:
                do {
                    return try await Connection.connect(config, logger: logger)
                } catch {
                    await state.discarded()
                    throw error
                }
            }
        }
    }

    func giveBack(_ connection: Connection) async {
        if await connection.isUsable, await !connection.isIdle {
            // The borrower left a transaction open (e.g. it threw between BEGIN and COMMIT).
            await connection.rollbackQuietly()
        }
        if await connection.isUsable, await connection.isIdle {
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
    private var waiters: [(id: Int, continuation: CheckedContinuation<Lease, any Error>)] = []

    init(capacity: Int) { self.capacity = capacity }

    func acquire(timeout: Duration) async throws -> Lease {
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
            try await withCheckedThrowingContinuation { continuation in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task {
                await self.fail(id, PQError(.cancelled, "Stopped waiting for a connection: the task was cancelled."))
            }
        }
    }

    private func fail(_ id: Int, _ error: PQError) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: error)
    }

    func release(_ connection: Connection) {
        if !waiters.isEmpty {
            waiters.removeFirst().continuation.resume(returning: .existing(connection))
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
            waiters.removeFirst().continuation.resume(returning: .create)
        } else {
            open -= 1
        }
    }

    func shutDown() -> [Connection] {
        closed = true
        for waiter in waiters {
            waiter.continuation.resume(throwing: PQError(.poolClosed, "The connection pool was closed."))
        }
        waiters.removeAll()
        let all = idle
        open -= idle.count
        idle.removeAll()
        return all
    }

    func counts() -> (open: Int, idle: Int) { (open, idle.count) }
}
