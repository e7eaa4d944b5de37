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

    public static var category: StreamCategory { .gig }

    public var marketplaceEvent: MarketplaceEvent { .gig(self) }

    public init?(_ event: MarketplaceEvent) {
        guard case .gig(let event) = event else { return nil }
        self = event
    }
}
