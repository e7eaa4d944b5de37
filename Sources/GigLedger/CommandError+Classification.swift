import EventStore
import Marketplace

extension CommandError: ClassifiedError {
    /// The command's failure for a client (see ``ErrorClassification``): the code is
    /// ``stableCode``; the fields name the `rule` that refused it, the `command` and its `stream`,
    /// the input `field` at fault, and for a conflict the `stream`, `expected` and `actual` version.
    public var classification: ErrorClassification {
        if let privacy = cause as? PrivacyError {
            var classified = privacy.classification
            if let command { classified.fields["command"] = .string(command) }
            if let stream { classified.fields["stream"] = .string(stream) }
            return classified
        }
        var fields: [String: JSONValue] = [:]
        let category: ErrorCategory
        switch code {
        case .rejected, .invalidCommand:
            category = domain?.category ?? (code == .rejected ? .rejected : .malformed)
        case .conflict:
            category = .conflict
            if let store = cause as? EventStoreError { fields = store.classification.fields }
        case .unavailable: category = .unavailable
        case .notMigrated: category = .schemaMissing
        default: category = .internalError
        }
        if let domain { fields["rule"] = .string(domain.code.rawValue) }
        if let field { fields["field"] = .string(field) }
        if let command { fields["command"] = .string(command) }
        if let stream, fields["stream"] == nil { fields["stream"] = .string(stream) }
        return ErrorClassification(category, code: stableCode, message: message, fields: fields)
    }
}

extension DomainError: ClassifiedError {
    /// A rule's refusal for a client: `rule` is its code (also the classification's code).
    public var classification: ErrorClassification {
        ErrorClassification(category, code: code.rawValue, message: message, fields: ["rule": .string(code.rawValue)])
    }

    /// Input the command should not have carried is ``ErrorCategory/malformed``; an id that names
    /// nothing is ``ErrorCategory/notFound``; an actor acting for someone else is
    /// ``ErrorCategory/forbidden``; a stored event that cannot be read is
    /// ``ErrorCategory/internalError``; every other rule ``ErrorCategory/rejected``.
    var category: ErrorCategory {
        switch code {
        case .invalidInput, .invalidStreamName:
            .malformed
        case .freelancerNotFound, .clientNotFound, .gigNotFound, .bidNotFound, .contractNotFound:
            .notFound
        case .notAllowed, .notGigOwner, .notContractFreelancer, .notContractClient:
            .forbidden
        case .unknownEventType, .unsupportedSchemaVersion, .undecodableEvent, .unencodableEvent:
            .internalError
        default:
            .rejected
        }
    }
}
