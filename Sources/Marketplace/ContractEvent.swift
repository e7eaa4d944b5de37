import Foundation

/// What happened to a contract; stored in `contract-<id>`.
public enum ContractEvent: DomainEvent {
    case contractStarted(ContractStarted)
    case deliverySubmitted(DeliverySubmitted)
    case changesRequested(ChangesRequested)
    case deliveryApproved(DeliveryApproved)
    case paymentReleased(PaymentReleased)
    case disputeOpened(DisputeOpened)
    case disputeResolved(DisputeResolved)
    case contractCompleted(ContractCompleted)
    case contractCancelled(ContractCancelled)
    case reviewSubmitted(ReviewSubmitted)

    /// The wrapped data.
    public var payload: any EventPayload {
        switch self {
        case .contractStarted(let payload): payload
        case .deliverySubmitted(let payload): payload
        case .changesRequested(let payload): payload
        case .deliveryApproved(let payload): payload
        case .paymentReleased(let payload): payload
        case .disputeOpened(let payload): payload
        case .disputeResolved(let payload): payload
        case .contractCompleted(let payload): payload
        case .contractCancelled(let payload): payload
        case .reviewSubmitted(let payload): payload
        }
    }

    /// `contract`.
    public static var category: StreamCategory { .contract }

    /// This event wrapped as ``MarketplaceEvent/contract(_:)``.
    public var marketplaceEvent: MarketplaceEvent { .contract(self) }

    /// `event` when it is a contract event; `nil` otherwise.
    public init?(_ event: MarketplaceEvent) {
        guard case .contract(let event) = event else { return nil }
        self = event
    }
}
