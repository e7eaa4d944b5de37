import EventStore
import Foundation
import PQ

/// What the timers read model (``TimersProjector``, `read_models.timers_v1`) says is due: one
/// indexed range read of `due_at`, so its cost grows with what is due, not with the log.
public struct DueTimers: Sendable {
    /// A timer whose time has come, by the read model.
    public struct Timer: Sendable, Hashable, Codable {
        /// What a timer does when due; the raw value is the `kind` column.
        public enum Kind: String, Sendable, Hashable, Codable {
            /// The gig's bidding deadline passed while it was open.
            case gigExpiry = "gig_expiry"
            /// The review window of the contract's pending delivery ended.
            case deliveryReview = "delivery_review"
        }
        /// What is due.
        public let kind: Kind
        /// The gig (gig expiry) or the contract (delivery review).
        public let subjectID: UUID
        /// The delivery awaiting review (delivery review only).
        public let deliveryID: UUID?
        /// When it fell due: the bidding deadline, or the end of the review window.
        public let dueAt: Date
    }

    /// The due timers and how current the read model they come from is.
    public struct Result: Sendable {
        /// Due at or before the time asked, earliest first.
        public let timers: [Timer]
        /// The timers projector's state (`running`, `failed`), checkpoint and lag in events: a
        /// timer whose events are not applied yet is found by a later run.
        public let state: String
        /// The global position of the last event the read model applied.
        public let checkpointPosition: Int64
        /// Events in the log the read model has not applied yet.
        public let lagEvents: Int64
    }

    /// Where the read model is read.
    public let pool: ConnectionPool
    /// Reads the timers read model in the database behind `pool`.
    public init(pool: ConnectionPool) { self.pool = pool }

    /// Timers due at or before `now`. Throws ``DueTimersError/notBuilt`` when the read model does
    /// not exist yet (no projection daemon has prepared it).
    public func due(at now: Date) async throws -> Result {
        let projector = TimersProjector()
        return try await pool.withTransaction { conn in
            // One snapshot for the rows and the checkpoint they reflect.
            try await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            guard
                let status = try await conn.query(
                    """
                    SELECT state, checkpoint_position, lag_events FROM read_models.projection_status
                    WHERE name = \(projector.name) AND version = \(projector.version)
                    """
                ).first,
                try await conn.query("SELECT to_regclass('read_models.timers_v1') IS NOT NULL").first?.decode(
                    Bool.self, at: 0) == true
            else { throw DueTimersError.notBuilt(name: projector.name, version: projector.version) }
            let rows = try await conn.query(
                """
                SELECT kind, subject_id, delivery_id, due_at FROM read_models.timers_v1
                WHERE due_at <= \(now) ORDER BY due_at, kind, subject_id
                """)
            return Result(
                timers: try rows.rows.map { row in
                    guard let kind = Timer.Kind(rawValue: try row.decode(String.self, at: 0)) else {
                        throw DueTimersError.unknownKind(try row.decode(String.self, at: 0))
                    }
                    return Timer(
                        kind: kind, subjectID: try row.decode(UUID.self, at: 1),
                        deliveryID: try row.decode(UUID?.self, at: 2), dueAt: try row.decode(Date.self, at: 3))
                },
                state: try status.decode(String.self, at: 0), checkpointPosition: try status.decode(Int64.self, at: 1),
                lagEvents: try status.decode(Int64.self, at: 2))
        }
    }
}

/// Why the due timers could not be read.
public enum DueTimersError: Error, Sendable, CustomStringConvertible {
    /// The timers read model has not been created: no projection daemon ran this version yet.
    case notBuilt(name: String, version: Int)
    /// A row of a kind this version does not know (a newer GigLedger wrote it).
    case unknownKind(String)

    public var description: String {
        switch self {
        case .notBuilt(let name, let version):
            "The timers read model (projector \(name) v\(version), read_models.timers_v1) does not exist yet: start the projection daemon (gigctl projections run --follow) or run gigctl projections run once, then run the timers again."
        case .unknownKind(let kind):
            "read_models.timers_v1 holds a timer of kind \(kind), which this version of GigLedger does not know: upgrade it."
        }
    }
}
