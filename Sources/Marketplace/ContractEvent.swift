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

    public static var schemaVersions: [String: Int] {
        [
            ContractStarted.eventType: ContractStarted.schemaVersion,
            DeliverySubmitted.eventType: DeliverySubmitted.schemaVersion,
            ChangesRequested.eventType: ChangesRequested.schemaVersion,
            DeliveryApproved.eventType: DeliveryApproved.schemaVersion,
            PaymentReleased.eventType: PaymentReleased.schemaVersion,
            DisputeOpened.eventType: DisputeOpened.schemaVersion,
            DisputeResolved.eventType: DisputeResolved.schemaVersion,
            ContractCompleted.eventType: ContractCompleted.schemaVersion,
            ContractCancelled.eventType: ContractCancelled.schemaVersion,
            ReviewSubmitted.eventType: ReviewSubmitted.schemaVersion,
        ]
    }

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

    public var eventType: String { type(of: payload).eventType }
    public var schemaVersion: Int { type(of: payload).schemaVersion }

    public func encoded() throws(DomainError) -> EncodedEvent {
        try EventCoding.encode(payload)
    }

    public static func decode(_ event: EncodedEvent) throws(DomainError) -> ContractEvent {
        switch event.type {
        case ContractStarted.eventType: .contractStarted(try EventCoding.decode(event, as: ContractStarted.self))
        case DeliverySubmitted.eventType: .deliverySubmitted(try EventCoding.decode(event, as: DeliverySubmitted.self))
        case ChangesRequested.eventType: .changesRequested(try EventCoding.decode(event, as: ChangesRequested.self))
        case DeliveryApproved.eventType: .deliveryApproved(try EventCoding.decode(event, as: DeliveryApproved.self))
        case PaymentReleased.eventType: .paymentReleased(try EventCoding.decode(event, as: PaymentReleased.self))
        case DisputeOpened.eventType: .disputeOpened(try EventCoding.decode(event, as: DisputeOpened.self))
        case DisputeResolved.eventType: .disputeResolved(try EventCoding.decode(event, as: DisputeResolved.self))
        case ContractCompleted.eventType: .contractCompleted(try EventCoding.decode(event, as: ContractCompleted.self))
        case ContractCancelled.eventType: .contractCancelled(try EventCoding.decode(event, as: ContractCancelled.self))
        case ReviewSubmitted.eventType: .reviewSubmitted(try EventCoding.decode(event, as: ReviewSubmitted.self))
        default: throw EventCoding.unknownType(event.type, in: "contract")
        }
    }
}
