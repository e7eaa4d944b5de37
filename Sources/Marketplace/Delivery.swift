/// A delivery of work on a contract.
public struct Delivery: Equatable, Sendable, Encodable {
    /// Where a delivery is.
    public enum Status: Equatable, Sendable, Encodable {
        /// Awaiting review (or frozen by a dispute).
        case pending
        /// Sent back with this reason.
        case changesRequested(String)
        /// Approved by this actor (the client, or `system` after the review window).
        case approved(ActorRef)
    }

    /// The submission as recorded.
    public let submission: ContractEvent.DeliverySubmitted
    /// Where the delivery is now.
    public internal(set) var status: Status

    init(_ submission: ContractEvent.DeliverySubmitted) {
        self.submission = submission
        status = .pending
    }

    /// The delivery's id, from its submission.
    public var id: DeliveryID { submission.deliveryID }
}
