import EventStore
import Logging
import PQ
import Projections
import ServiceLifecycle

/// Knows how far each projector has got, so a read with `minPosition` can wait for its
/// projectors to pass a position: on EventStore's `LogListener` (the one way to wait for news), it
/// listens on `gigledger_projections` (the daemon announces every committed batch there), re-reads
/// the checkpoints when told, and wakes the waiters whose target has been reached; a slow fallback
/// poll covers a missed notification. On a hot standby (the server's read database may be one),
/// which hears no notifications, it polls the replicated checkpoints every `standbyPoll`.
package final class ProjectionWatcher: Service, Sendable {
    let board = CheckpointBoard()
    let pool: ConnectionPool
    let config: ConnectionConfig
    let projectors: [any Projector]
    let logger: Logger
    let fallbackPoll: Duration
    let standbyPoll: Duration

    init(
        pool: ConnectionPool, config: ConnectionConfig, projectors: [any Projector], logger: Logger,
        fallbackPoll: Duration = .seconds(1), standbyPoll: Duration = .milliseconds(100)
    ) {
        self.pool = pool
        self.config = config
        self.projectors = projectors
        self.logger = logger
        self.fallbackPoll = fallbackPoll
        self.standbyPoll = standbyPoll
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            let listener = LogListener(
                config: self.config, channel: ProjectionEngine.notificationChannel, fallbackPoll: self.fallbackPoll,
                standbyPoll: self.standbyPoll, logger: self.logger)
            var failures = 0
            while !Task.isCancelled {
                do {
                    try await self.refresh()
                    // The first wait (and the first after a broken session) listens afresh and
                    // returns at once: the refresh above then runs again, after LISTEN.
                    try await listener.wait(after: .caughtUp)
                    failures = 0
                } catch {
                    if Task.isCancelled { break }
                    failures += 1
                    self.logger.warning(
                        "projection watcher lost the database; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(min(5000, 100 << min(failures, 6))))
                }
            }
            await listener.close()
            await self.board.close()
        }
    }

    /// Reads the checkpoints now and wakes whoever they satisfy.
    func refresh() async throws {
        let checkpoints = try await ProjectionEngine.checkpoints(of: projectors, pool: pool)
        await board.update(checkpoints)
    }

    /// The projectors' checkpoints last seen (read now if none were seen yet).
    func current() async throws -> [String: LogCheckpoint] {
        if let known = await board.checkpoints { return known }
        try await refresh()
        return await board.checkpoints ?? [:]
    }

    /// Waits until every one of `names` has passed `target`, at most `timeout`. Returns whether
    /// they did.
    func wait(for target: LogCheckpoint, projectors names: [String], timeout: Duration) async -> Bool {
        if let known = await board.checkpoints, CheckpointBoard.reached(known, target, names) { return true }
        // The first read may not have happened yet: do it here rather than wait a whole poll.
        try? await refresh()
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.board.wait(for: target, projectors: names) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}

/// The checkpoints last read and the readers waiting for them.
actor CheckpointBoard {
    private(set) var checkpoints: [String: LogCheckpoint]?
    private var waiters: [Int: Waiter] = [:]
    private var nextID = 0
    private var closed = false

    struct Waiter {
        let target: LogCheckpoint
        let names: [String]
        let continuation: CheckedContinuation<Bool, Never>
    }

    static func reached(_ checkpoints: [String: LogCheckpoint], _ target: LogCheckpoint, _ names: [String]) -> Bool {
        names.allSatisfy { (checkpoints[$0] ?? .start) >= target }
    }

    func update(_ new: [String: LogCheckpoint]) {
        checkpoints = new
        for (id, waiter) in waiters where Self.reached(new, waiter.target, waiter.names) {
            waiters[id] = nil
            waiter.continuation.resume(returning: true)
        }
    }

    func close() {
        closed = true
        for waiter in waiters.values { waiter.continuation.resume(returning: false) }
        waiters = [:]
    }

    func wait(for target: LogCheckpoint, projectors names: [String]) async -> Bool {
        if let checkpoints, Self.reached(checkpoints, target, names) { return true }
        if closed { return false }
        let id = nextID
        nextID += 1
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: false)
                } else {
                    waiters[id] = Waiter(target: target, names: names, continuation: continuation)
                }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func cancel(_ id: Int) {
        waiters.removeValue(forKey: id)?.continuation.resume(returning: false)
    }
}
