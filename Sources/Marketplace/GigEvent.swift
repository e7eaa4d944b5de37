import Foundation

/// What happened to a gig or one of its bids; stored in `gig-<id>`.
public enum GigEvent: DomainEvent {
    case gigPosted(GigPosted)
    case bidPlaced(BidPlaced)
    case bidRevised(BidRevised)
    case bidWithdrawn(BidWithdrawn)
    case bidDeclined(BidDeclined)
    case bidAccepted(BidAccepted)
    case gigClosed(GigClosed)

    /// The wrapped data.
    public var payload: any EventPayload {
        switch self {
        case .gigPosted(let payload): payload
        case .bidPlaced(let payload): payload
        case .bidRevised(let payload): payload
        case .bidWithdrawn(let payload): payload
        case .bidDeclined(let payload): payload
        case .bidAccepted(let payload): payload
        case .gigClosed(let payload): payload
        }
    }

    /// `gig`.
    public static var category: StreamCategory { .gig }

    /// This event wrapped as ``MarketplaceEvent/gig(_:)``.
    public var marketplaceEvent: MarketplaceEvent { .gig(self) }

    /// `event` when it is a gig event; `nil` otherwise.
    public init?(_ event: MarketplaceEvent) {
        guard case .gig(let event) = event else { return nil }
        self = event
    }
}
