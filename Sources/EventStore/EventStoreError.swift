import PQ

/// Every error the event store throws: a stable code, a message for the person who reads it
/// (what was wrong, which input, what to do), and the underlying cause.
public struct EventStoreError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure: a closed set compared with `==` against the static members; its
    /// `description` is the stable upper-case code (`WRONG_EXPECTED_VERSION`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case wrongExpectedVersion = "WRONG_EXPECTED_VERSION"
            case invalidAppend = "INVALID_APPEND"
            case invalidStreamName = "INVALID_STREAM_NAME"
            case unknownEventType = "UNKNOWN_EVENT_TYPE"
            case undecodableEvent = "UNDECODABLE_EVENT"
            case migrationEdited = "MIGRATION_EDITED"
            case migrationFailed = "MIGRATION_FAILED"
            case notMigrated = "NOT_MIGRATED"
            case appendOnly = "APPEND_ONLY"
            case archive = "ARCHIVE_REFUSED"
            case database = "DATABASE"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The stream's version is not the one the append expected; see ``EventStoreError/conflict``.
        public static let wrongExpectedVersion = Code(.wrongExpectedVersion)
        /// The append's arguments are malformed (no events, bad event type, non-object data, …).
        public static let invalidAppend = Code(.invalidAppend)
        /// A stream name is not `category-id` (see ``StreamName``).
        public static let invalidStreamName = Code(.invalidStreamName)
        /// No decoder is registered for an event's (type, schema version).
        public static let unknownEventType = Code(.unknownEventType)
        /// An event's data does not decode (or upcast) into its registered type.
        public static let undecodableEvent = Code(.undecodableEvent)
        /// An applied migration's file was changed since: restore the file (migrations are
        /// forward-only).
        public static let migrationEdited = Code(.migrationEdited)
        /// A migration's SQL failed; its transaction was rolled back and later migrations were not
        /// run.
        public static let migrationFailed = Code(.migrationFailed)
        /// The database has not been migrated (`gigctl migrate`).
        public static let notMigrated = Code(.notMigrated)
        /// Something tried to change or remove an event.
        public static let appendOnly = Code(.appendOnly)
        /// Archiving a partition or restoring an archive was refused: no such partition, one still
        /// written or not yet applied by every projection, or a file that matches no recorded
        /// archive. Nothing was changed.
        public static let archive = Code(.archive)
        /// Any other database failure; ``EventStoreError/cause`` holds the ``PQError``.
        public static let database = Code(.database)
        public var description: String { base.rawValue }
    }

    /// The details of a version conflict.
    public struct Conflict: Sendable, Hashable, Codable {
        /// The stream whose version did not match.
        public let stream: StreamName
        /// What the append expected of it.
        public let expected: ExpectedVersion
        /// The stream's version when the append ran (0: the stream did not exist).
        public let actual: Int64
        /// The conflict of `stream`, expected `expected`, found at version `actual`.
        public init(stream: StreamName, expected: ExpectedVersion, actual: Int64) {
            self.stream = stream
            self.expected = expected
            self.actual = actual
        }
    }

    /// What kind of failure this is.
    public let code: Code
    /// The explanation for the person who reads it: what was wrong, which input, what to do.
    public let message: String
    /// The stream, expected and actual version, for ``Code/wrongExpectedVersion``; `nil` otherwise.
    public let conflict: Conflict?
    /// The underlying error (usually a ``PQError``), when a lower layer failed.
    public let cause: (any Error & Sendable)?

    /// Creates an error; `conflict` belongs with ``Code/wrongExpectedVersion``.
    public init(_ code: Code, _ message: String, conflict: Conflict? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.conflict = conflict
        self.cause = cause
    }

    public var description: String { "\(code): \(message)" }

    /// True when the database could not be reached or the connection broke.
    public var isConnectionProblem: Bool { (cause as? PQError)?.isConnectionLost ?? false }
}

extension EventStoreError {
    /// Maps a database error once, by SQLSTATE and constraint name (never by message text).
    static func from(_ error: PQError) -> EventStoreError {
        switch error.sqlState {
        case .checkViolation
        where error.constraint == nil && error.server?.schema == "ledger" && error.server?.table == "events":
            // No partition holds the row's position: not the caller's input.
            return EventStoreError(
                .database,
                "No partition of ledger.events holds the next position, so nothing can be appended: run "
                    + "`gigctl log partitions prepare` (the projection daemon and the nightly job normally keep partitions ahead).",
                cause: error)
        case .appendRejected, .checkViolation:
            let what = error.constraint.map { "constraint \($0) failed" } ?? (error.server?.message ?? error.message)
            return EventStoreError(
                .invalidAppend,
                "The append was refused and nothing was stored: \(what). Event types are CamelCase names, schema versions start at 1, data and metadata are JSON objects.",
                cause: error)
        case .appendOnlyViolation:
            return EventStoreError(
                .appendOnly,
                "The event log is append-only: events cannot be changed or removed. Append a compensating event instead.",
                cause: error)
        case .undefinedTable, .invalidSchemaName, .undefinedFunction:
            return EventStoreError(
                .notMigrated, "The database has no event log yet: run `gigctl migrate` first.", cause: error)
        default:
            return EventStoreError(.database, error.description, cause: error)
        }
    }
}

extension EventStoreError: PQErrorWrapping {
    /// A database failure met while lending a connection or running a transaction for the store.
    public static func wrapping(_ error: PQError) -> EventStoreError { from(error) }
}
