import Foundation

/// What happened to a freelancer; stored in `freelancer-<id>`.
public enum FreelancerEvent: DomainEvent {
    case freelancerRegistered(FreelancerRegistered)
    case skillsUpdated(SkillsUpdated)
    case rateChanged(RateChanged)
    case availabilityChanged(AvailabilityChanged)

    public static var schemaVersions: [String: Int] {
        [
            FreelancerRegistered.eventType: FreelancerRegistered.schemaVersion,
            SkillsUpdated.eventType: SkillsUpdated.schemaVersion,
            RateChanged.eventType: RateChanged.schemaVersion,
            AvailabilityChanged.eventType: AvailabilityChanged.schemaVersion,
        ]
    }

    /// The wrapped data.
    public var payload: any EventPayload {
        switch self {
        case .freelancerRegistered(let payload): payload
        case .skillsUpdated(let payload): payload
        case .rateChanged(let payload): payload
        case .availabilityChanged(let payload): payload
        }
    }

    public var eventType: String { type(of: payload).eventType }
    public var schemaVersion: Int { type(of: payload).schemaVersion }

    public func encoded() throws(DomainError) -> EncodedEvent {
        try EventCoding.encode(payload)
    }

    public static func decode(_ event: EncodedEvent) throws(DomainError) -> FreelancerEvent {
        switch event.type {
        case FreelancerRegistered.eventType:
            .freelancerRegistered(try EventCoding.decode(event, as: FreelancerRegistered.self))
        case SkillsUpdated.eventType: .skillsUpdated(try EventCoding.decode(event, as: SkillsUpdated.self))
        case RateChanged.eventType: .rateChanged(try EventCoding.decode(event, as: RateChanged.self))
        case AvailabilityChanged.eventType:
            .availabilityChanged(try EventCoding.decode(event, as: AvailabilityChanged.self))
        default: throw EventCoding.unknownType(event.type, in: "freelancer")
        }
    }
}
