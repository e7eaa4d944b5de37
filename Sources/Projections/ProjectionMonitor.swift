import EventStore
import Foundation
import PQ

/// How the projections stand: each projector's checkpoint, lag, state and last error, the
/// builds in progress, and the open transaction holding every projector back, if any.
public struct ProjectionMonitor: Sendable {
    /// Where the projections are read from.
    public let pool: ConnectionPool
    /// The projectors it was made with; ``report()`` lists every projector and build recorded in
    /// the database, whichever these are.
    public let projectors: [any Projector]

    /// A monitor of the projections in the database behind `pool`.
    public init(pool: ConnectionPool, projectors: [any Projector] = ShippedProjectors.all) {
        self.pool = pool
        self.projectors = projectors
    }

    /// `gigctl projections status --json` prints this; so will the HTTP service.
    public struct Report: Sendable, Codable, Hashable {
        /// The highest global position in the log (0 when empty).
        public let headPosition: Int64
        /// One per projector and version that has a row in `ledger.projections`, by name.
        public let projections: [ProjectionStatus]
        /// Rebuilds and verifications in progress or interrupted.
        public let builds: [BuildStatus]
        /// The oldest transaction on the server holding gap-safe readers back; `null` when none.
        @NullEncoded public var oldestOpenTransaction: BlockingTransaction?

        /// Whether a projector has stopped at an event.
        public var anyFailed: Bool { projections.contains { $0.state == "failed" } }
    }

    /// Reads every projector's status, the builds, the log's head and the oldest open transaction.
    /// Throws the database's error; the reads are separate statements, so the parts may be moments
    /// apart.
    public func report() async throws -> Report {
        let store = EventStore(pool: pool)
        let engine = ProjectionEngine(store: store, projectors: projectors)
        let statuses = try await engine.status()
        let builds = try await engine.builds()
        let log = try await store.status()
        return Report(
            headPosition: log.headPosition, projections: statuses, builds: builds,
            oldestOpenTransaction: log.oldestOpenTransaction)
    }
}
