import EventStore
import Foundation
import Marketplace
import PQ

/// Why personal data could not be sealed, opened, forgotten or exported. Missing or wrong master
/// keys are configuration errors (gigctl exit 78), reported before anything is written.
public struct PrivacyError: Error, Sendable, CustomStringConvertible {
    /// A stable code over a closed set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case masterKeyMissing = "MASTER_KEY_MISSING"
            case masterKeyInvalid = "MASTER_KEY_INVALID"
            case masterKeyWrong = "MASTER_KEY_WRONG"
            case subjectNotFound = "SUBJECT_NOT_FOUND"
            case invalidRequest = "INVALID_PRIVACY_REQUEST"
            case corruptKey = "CORRUPT_DATA_KEY"
            case store = "PRIVACY_STORE_FAILURE"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// No master key is configured (GIGLEDGER_MASTER_KEY_FILE, GIGLEDGER_MASTER_KEY, --master-key-file).
        public static let masterKeyMissing = Code(.masterKeyMissing)
        /// The configured master key is not 32 bytes of base64, or its file cannot be read.
        public static let masterKeyInvalid = Code(.masterKeyInvalid)
        /// The configured master key is not the one the database's data keys are wrapped with.
        public static let masterKeyWrong = Code(.masterKeyWrong)
        /// The subject has no stream: no such freelancer or client.
        public static let subjectNotFound = Code(.subjectNotFound)
        /// A malformed request (subject, reason code, erasure list).
        public static let invalidRequest = Code(.invalidRequest)
        /// A stored data key does not open with the master key that claims to wrap it.
        public static let corruptKey = Code(.corruptKey)
        /// The database failed; ``PrivacyError/cause`` says how.
        public static let store = Code(.store)
        public var rawValue: String { base.rawValue }
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    static func store(_ error: any Error, _ what: String) -> PrivacyError {
        if let error = error as? PrivacyError { return error }
        return PrivacyError(.store, "\(what) failed: \(ErrorClassification(error).message)", cause: error)
    }

    public var description: String { "\(code): \(message)" }
}

extension PrivacyError: ClassifiedError {
    /// Key configuration is ``ErrorCategory/schemaMissing`` (exit 78, HTTP 503: the deployment is
    /// not set up); a database failure is classified as its cause.
    public var classification: ErrorClassification {
        switch code {
        case .masterKeyMissing, .masterKeyInvalid, .masterKeyWrong:
            return ErrorClassification(.schemaMissing, code: code.rawValue, message: message)
        case .subjectNotFound:
            return ErrorClassification(.notFound, code: code.rawValue, message: message)
        case .invalidRequest:
            return ErrorClassification(.malformed, code: code.rawValue, message: message)
        case .store:
            if let cause {
                var classified = ErrorClassification(cause)
                classified.message = message
                return classified
            }
            return ErrorClassification(.internalError, code: code.rawValue, message: message)
        default:
            return ErrorClassification(.internalError, code: code.rawValue, message: message)
        }
    }
}
