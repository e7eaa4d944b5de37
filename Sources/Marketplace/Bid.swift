/// A bid on a gig, inside the gig's stream.
public struct Bid: Equatable, Sendable, Encodable {
    /// Where a bid is: Live (placed, possibly revised) → Accepted | Declined | Withdrawn | Lapsed.
    public enum Status: Equatable, Sendable, Encodable {
        /// May be revised, withdrawn, declined or accepted.
        case live
        case withdrawn
        case declined(BidDeclineReason)
        case accepted
        /// The gig was awarded to another bid, or closed, while this bid was live.
        case lapsed
    }

    /// The placement as recorded, so a repeated `PlaceBid` can be recognised.
    public let placement: GigEvent.BidPlaced
    /// The current amount (after revisions).
    public internal(set) var amount: Money
    /// The current estimate (after revisions).
    public internal(set) var estimatedDays: Int
    /// Where the bid is now.
    public internal(set) var status: Status
    /// How many times the bid was revised.
    public internal(set) var revisions: Int

    init(_ placement: GigEvent.BidPlaced) {
        self.placement = placement
        amount = placement.amount
        estimatedDays = placement.estimatedDays
        status = .live
        revisions = 0
    }

    /// The bid's id, from its placement.
    public var id: BidID { placement.bidID }
    /// The bidder, from the placement.
    public var freelancerID: FreelancerID { placement.freelancerID }
}
