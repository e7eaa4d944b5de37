import Foundation

/// Forgetting a data subject (GDPR Art. 17), as a decision: the event to append. The store
/// appends it and destroys the subject's data key in one transaction (`privacy.forget`).
public enum PrivacyCommand: Sendable {
    /// Forget `subject` for `reason` (a code: lower case letters, digits and hyphens, e.g.
    /// `gdpr-art17`), at `occurredAt`.
    case forget(subject: DataSubject, reason: String, occurredAt: Date)
}

/// A subject's privacy stream, folded: erased or not.
public enum PrivacyState: Equatable, Sendable, Encodable {
    case retained
    case erased(PrivacyEvent.PersonalDataErased)
}

/// Decides and applies privacy events.
public enum PrivacyDecider: Decider {
    public static let initialState = PrivacyState.retained

    /// The `PersonalDataErased` event, or none when the subject is erased already (idempotent).
    ///
    /// - Throws: ``DomainError/Code/invalidInput`` for a reason that is not a code.
    public static func decide(_ command: PrivacyCommand, _ state: PrivacyState) throws(DomainError)
        -> [PrivacyEvent]
    {
        switch command {
        case .forget(let subject, let reason, let occurredAt):
            try validateReason(reason)
            try Validate.storableTime(occurredAt, field: "occurredAt")
            guard case .retained = state else { return [] }
            return [.personalDataErased(.init(subject: subject, reason: reason, erasedAt: occurredAt))]
        }
    }

    public static func evolve(_ state: PrivacyState, _ event: PrivacyEvent) -> PrivacyState {
        switch (state, event) {
        case (.retained, .personalDataErased(let erased)): .erased(erased)
        default: state
        }
    }

    /// A reason is a code, never free text: `^[a-z][a-z0-9-]{0,39}$`.
    public static func validateReason(_ reason: String) throws(DomainError) {
        let bytes = Array(reason.utf8)
        let valid =
            (1...40).contains(bytes.count) && (97...122).contains(bytes[0])
            && bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }
        guard valid else {
            throw DomainError(
                .invalidInput,
                "reason must be a code of 1–40 lower-case letters, digits and hyphens starting with a letter (e.g. gdpr-art17, account-closed), never free text."
            )
        }
    }
}
