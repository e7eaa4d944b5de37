import LedgerBasics
import PQ

extension PQError: ClassifiedError {
    /// Connection failures and pool timeouts are ``ErrorCategory/unavailable``; a missing
    /// `ledger` schema, table or function is ``ErrorCategory/schemaMissing``; serialization
    /// failures and deadlocks that outlived their retries are ``ErrorCategory/conflict``; a
    /// refused privilege or a change to the append-only log is ``ErrorCategory/forbidden``.
    public var classification: ErrorClassification {
        if isConnectionLost || code == .poolTimeout || code == .poolClosed {
            return ErrorClassification(
                .unavailable, code: "DATABASE_UNAVAILABLE", message: "The database is unavailable: \(description)")
        }
        if code == .cancelled {
            return ErrorClassification(.unavailable, code: "CANCELLED", message: description)
        }
        switch sqlState {
        case .undefinedTable?, .invalidSchemaName?, .undefinedFunction?:
            return ErrorClassification(
                .schemaMissing, code: "NOT_MIGRATED",
                message: "The database has no GigLedger schema yet: run `gigctl migrate`.")
        case .appendOnlyViolation?:
            return ErrorClassification(
                .forbidden, code: "APPEND_ONLY",
                message:
                    "The event log is append-only: events cannot be changed or removed. Append a compensating event instead."
            )
        case .insufficientPrivilege?:
            return ErrorClassification(.forbidden, code: "PERMISSION_DENIED", message: description)
        case let state? where state.isTransient:
            return ErrorClassification(.conflict, code: "CONCURRENCY_CONFLICT", message: description)
        default:
            return ErrorClassification(.internalError, code: "DATABASE_ERROR", message: description)
        }
    }
}

extension EventStoreError: ClassifiedError {
    public var classification: ErrorClassification {
        if isConnectionProblem {
            return ErrorClassification(
                .unavailable, code: "DATABASE_UNAVAILABLE", message: "The database is unavailable: \(message)")
        }
        let category: ErrorCategory
        var fields: [String: JSONValue] = [:]
        switch code {
        case .wrongExpectedVersion:
            category = .conflict
            if let conflict {
                fields = [
                    "stream": .string(conflict.stream.rawValue), "expected": conflict.expected.jsonValue,
                    "actual": .number(Double(conflict.actual)),
                ]
            }
        case .invalidAppend, .invalidStreamName: category = .malformed
        case .notMigrated, .migrationEdited, .migrationFailed: category = .schemaMissing
        case .appendOnly: category = .forbidden
        case .archive: category = .rejected
        case .database:
            // Whatever the database said, classified by its SQLSTATE, keeping this message.
            if let cause = cause as? PQError {
                var classified = cause.classification
                if classified.category == .internalError { classified.message = message }
                return classified
            }
            category = .internalError
        default: category = .internalError
        }
        return ErrorClassification(category, code: code.description, message: message, fields: fields)
    }
}

extension ExpectedVersion {
    /// A version as a number; the other expectations as `"any"`, `"noStream"`, `"streamExists"`.
    var jsonValue: JSONValue {
        switch self {
        case .any: .string("any")
        case .noStream: .string("noStream")
        case .streamExists: .string("streamExists")
        case .exactly(let version): .number(Double(version))
        }
    }
}
