/// A started contract with its deliveries, disputes, payment and reviews.
public struct ContractRecord: Equatable, Sendable, Encodable {
    /// Where a contract is: Active ⇄ Delivered → Completed, Active/Delivered ⇄ Disputed,
    /// Disputed → Completed | Cancelled.
    public enum Status: Equatable, Sendable, Encodable {
        /// Work in progress; no delivery pending.
        case active
        /// This delivery awaits the client's review.
        case delivered(DeliveryID)
        /// This dispute is open; deliveries and approvals wait.
        case disputed(DisputeID)
        /// Approved (or a dispute decided); the payment and the ending event follow in the same
        /// decision, so a folded stream is never left here.
        case settling
        /// Paid and done. Reviews may follow.
        case completed
        /// Ended without payment. Reviews may follow.
        case cancelled
    }

    /// The start as recorded.
    public let start: ContractEvent.ContractStarted
    /// Where the contract is now.
    public internal(set) var status: Status
    /// Every delivery, by id.
    public internal(set) var deliveries: [DeliveryID: Delivery]
    /// Every dispute, by id.
    public internal(set) var disputes: [DisputeID: Dispute]
    /// The payment, once released (at most one per contract).
    public internal(set) var payment: ContractEvent.PaymentReleased?
    /// The reviews, by author side.
    public internal(set) var reviews: [ContractSide: ContractEvent.ReviewSubmitted]

    init(_ start: ContractEvent.ContractStarted) {
        self.start = start
        status = .active
        deliveries = [:]
        disputes = [:]
        payment = nil
        reviews = [:]
    }

    /// The contract's id, from its start.
    public var id: ContractID { start.contractID }
    /// The gig it was awarded from.
    public var gigID: GigID { start.gigID }
    /// The client who pays.
    public var clientID: ClientID { start.clientID }
    /// The freelancer who does the work.
    public var freelancerID: FreelancerID { start.freelancerID }
    /// The agreed amount.
    public var amount: Money { start.amount }
    /// The review window and platform fee fixed when it started.
    public var terms: ContractTerms { start.terms }

    /// Whether the contract has completed or been cancelled.
    public var hasEnded: Bool { status == .completed || status == .cancelled }
}
