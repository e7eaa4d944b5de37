import Foundation

/// What happened to a freelancer; stored in `freelancer-<id>`.
public enum FreelancerEvent: DomainEvent {
    case freelancerRegistered(FreelancerRegistered)
    case skillsUpdated(SkillsUpdated)
    case rateChanged(RateChanged)
    case availabilityChanged(AvailabilityChanged)
    case preferencesSet(PreferencesSet)

    /// The wrapped data.
    public var payload: any EventPayload {
        switch self {
        case .freelancerRegistered(let payload): payload
        case .skillsUpdated(let payload): payload
        case .rateChanged(let payload): payload
        case .availabilityChanged(let payload): payload
        case .preferencesSet(let payload): payload
        }
    }

    /// `freelancer`.
    public static var category: StreamCategory { .freelancer }

    /// This event wrapped as ``MarketplaceEvent/freelancer(_:)``.
    public var marketplaceEvent: MarketplaceEvent { .freelancer(self) }

    /// `event` when it is a freelancer event; `nil` otherwise.
    public init?(_ event: MarketplaceEvent) {
        guard case .freelancer(let event) = event else { return nil }
        self = event
    }
}
