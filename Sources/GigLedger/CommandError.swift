import EventStore
import Marketplace
import PQ

/// Why a command did not take effect. Nothing was appended in any of these cases.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure: a closed set, compared with `==` against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case rejected, invalidCommand, conflict, unavailable, notMigrated, corruptStream, internalError
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// A rule of the marketplace refused it; ``CommandError/domain`` holds the rule's code.
        public static let rejected = Code(.rejected)
        /// The command itself is malformed (missing field, wrong type, unknown command).
        public static let invalidCommand = Code(.invalidCommand)
        /// Other writers kept changing the stream; the command was retried and gave up.
        public static let conflict = Code(.conflict)
        /// The database could not be reached.
        public static let unavailable = Code(.unavailable)
        /// The database has no GigLedger schema (or an edited one): run `gigctl migrate`.
        public static let notMigrated = Code(.notMigrated)
        /// A stored event could not be read back.
        public static let corruptStream = Code(.corruptStream)
        /// A bug, or a store failure that fits none of the other codes; ``CommandError/cause``
        /// holds the error.
        public static let internalError = Code(.internalError)
        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public let code: Code
    /// The explanation for the person who sent the command, naming what to do.
    public let message: String
    /// The rule that refused the command, for ``Code/rejected`` (and input checks the domain made).
    public let domain: DomainError?
    /// The underlying error (an `EventStoreError` or `PQError`) when a lower layer failed, else
    /// `nil`.
    public let cause: (any Error & Sendable)?
    /// The input field at fault, for ``Code/invalidCommand`` when one is to blame (`"gigId"`).
    public let field: String?
    /// The command that failed (`PlaceBid`), when known.
    public private(set) var command: String?
    /// The stream that decides that command (`gig-<uuid>`), when known.
    public private(set) var stream: String?

    /// Creates an error; ``command`` and ``stream`` are filled in by
    /// ``MarketplaceService/execute(_:correlationId:causationId:)``.
    public init(
        _ code: Code, _ message: String, domain: DomainError? = nil, field: String? = nil,
        cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.domain = domain
        self.field = field
        self.cause = cause
    }

    /// This error, naming the command and stream it happened to.
    func about(_ command: MarketplaceCommand) -> CommandError {
        var named = self
        named.command = command.name
        named.stream = command.stream.name
        return named
    }

    /// The stable machine code: the domain rule's (`GIG_NOT_OPEN`), else `CONCURRENCY_CONFLICT`,
    /// `INVALID_COMMAND`, `DATABASE_UNAVAILABLE`, `NOT_MIGRATED`, `CORRUPT_STREAM` or `INTERNAL_ERROR`.
    public var stableCode: String {
        if let domain { return domain.code.rawValue }
        switch code {
        case .conflict: return "CONCURRENCY_CONFLICT"
        case .invalidCommand: return "INVALID_COMMAND"
        case .unavailable: return "DATABASE_UNAVAILABLE"
        case .notMigrated: return "NOT_MIGRATED"
        case .corruptStream: return "CORRUPT_STREAM"
        default: return "INTERNAL_ERROR"
        }
    }

    public var description: String { "\(stableCode): \(message)" }

    /// The store failed (as opposed to the command or a rule): its cause is an `EventStoreError`.
    var isStoreFailure: Bool { cause is EventStoreError }

    static func rejected(_ error: DomainError) -> CommandError {
        let code: Code = error.code == .invalidInput || error.code == .invalidStreamName ? .invalidCommand : .rejected
        return CommandError(code, error.message, domain: error)
    }

    static func store(_ error: EventStoreError) -> CommandError {
        if error.isConnectionProblem {
            return CommandError(.unavailable, "The database is unavailable: \(error.message)", cause: error)
        }
        switch error.code {
        case .wrongExpectedVersion: return CommandError(.conflict, error.message, cause: error)
        case .notMigrated, .migrationEdited, .migrationFailed:
            return CommandError(.notMigrated, error.message, cause: error)
        case .invalidAppend, .invalidStreamName: return CommandError(.invalidCommand, error.message, cause: error)
        default: return CommandError(.internalError, error.description, cause: error)
        }
    }
}

extension CommandError: PQErrorWrapping {
    /// A database failure met while handling a command (lending a connection, a stream's lock).
    public static func wrapping(_ error: PQError) -> CommandError { store(EventStoreError.wrapping(error)) }
}
