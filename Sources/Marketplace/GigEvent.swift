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

    public static var schemaVersions: [String: Int] {
        [
            GigPosted.eventType: GigPosted.schemaVersion,
            BidPlaced.eventType: BidPlaced.schemaVersion,
            BidRevised.eventType: BidRevised.schemaVersion,
            BidWithdrawn.eventType: BidWithdrawn.schemaVersion,
            BidDeclined.eventType: BidDeclined.schemaVersion,
            BidAccepted.eventType: BidAccepted.schemaVersion,
            GigClosed.eventType: GigClosed.schemaVersion,
        ]
    }

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

    public var eventType: String { type(of: payload).eventType }
    public var schemaVersion: Int { type(of: payload).schemaVersion }

    public func encoded() throws(DomainError) -> EncodedEvent {
        try EventCoding.encode(payload)
    }

    public static func decode(_ event: EncodedEvent) throws(DomainError) -> GigEvent {
        switch event.type {
        case GigPosted.eventType: .gigPosted(try EventCoding.decode(event, as: GigPosted.self))
        case BidPlaced.eventType: .bidPlaced(try EventCoding.decode(event, as: BidPlaced.self))
        case BidRevised.eventType: .bidRevised(try EventCoding.decode(event, as: BidRevised.self))
        case BidWithdrawn.eventType: .bidWithdrawn(try EventCoding.decode(event, as: BidWithdrawn.self))
        case BidDeclined.eventType: .bidDeclined(try EventCoding.decode(event, as: BidDeclined.self))
        case BidAccepted.eventType: .bidAccepted(try EventCoding.decode(event, as: BidAccepted.self))
        case GigClosed.eventType: .gigClosed(try EventCoding.decode(event, as: GigClosed.self))
        default: throw EventCoding.unknownType(event.type, in: "gig")
        }
    }
}
