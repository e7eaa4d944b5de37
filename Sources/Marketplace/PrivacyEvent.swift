import Foundation

/// What happened to a data subject's personal data; stored in `privacy-<subject's uuid>`.
public enum PrivacyEvent: DomainEvent {
    case personalDataErased(PersonalDataErased)

    /// `PersonalDataErased` v1: `{"subject": "freelancer:<uuid>" | "client:<uuid>", "reason",
    /// "erasedAt": time}`. The subject's data key was destroyed in the same transaction, so every
    /// personal field written for them reads as ``PersonalData/placeholder`` from now on. Holds no
    /// personal data: `reason` is a code such as `gdpr-art17`, never free text.
    public struct PersonalDataErased: EventPayload {
        public static let eventType = "PersonalDataErased"
        public let subject: DataSubject
        public let reason: String
        public let erasedAt: Date

        public init(subject: DataSubject, reason: String, erasedAt: Date) {
            self.subject = subject
            self.reason = reason
            self.erasedAt = EventTime.normalized(erasedAt)
        }

        private enum CodingKeys: String, CodingKey {
            case subject
            case reason
            case erasedAt
        }
    }

    /// The wrapped data.
    public var payload: any EventPayload {
        switch self {
        case .personalDataErased(let payload): payload
        }
    }

    public static var category: StreamCategory { .privacy }

    public var marketplaceEvent: MarketplaceEvent { .privacy(self) }

    public init?(_ event: MarketplaceEvent) {
        guard case .privacy(let event) = event else { return nil }
        self = event
    }
}
