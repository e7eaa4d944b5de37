import Foundation

/// A posted gig with its bids.
public struct PostedGig: Equatable, Sendable, Encodable {
    /// Where a gig is in its lifecycle: Open → Awarded → Closed(filled), or Open → Closed.
    public enum Status: Equatable, Sendable, Encodable {
        /// Takes bids (until ``PostedGig/biddingClosesAt``) and may be awarded.
        case open
        /// A bid was accepted; see ``PostedGig/award``.
        case awarded
        /// Closed for good.
        case closed(GigCloseReason)
    }

    /// The posting as recorded.
    public let posting: GigEvent.GigPosted
    /// Where the gig is in its lifecycle.
    public internal(set) var status: Status
    /// The accepted bid and its contract, once awarded (kept after the gig closes).
    public internal(set) var award: GigEvent.BidAccepted?
    /// Every bid ever placed, by id.
    public internal(set) var bids: [BidID: Bid]

    init(_ posting: GigEvent.GigPosted) {
        self.posting = posting
        status = .open
        award = nil
        bids = [:]
    }

    /// The gig's id, from its posting.
    public var id: GigID { posting.gigID }
    /// The client who posted it.
    public var clientID: ClientID { posting.clientID }
    /// The currency of its budget and of every bid on it.
    public var currency: Currency { posting.currency }
    /// When bidding ends; bids placed at or after it are refused.
    public var biddingClosesAt: Date { posting.biddingClosesAt }

    /// The freelancer's live bid, if any (at most one exists).
    public func liveBid(of freelancer: FreelancerID) -> Bid? {
        bids.values.first { $0.freelancerID == freelancer && $0.status == .live }
    }
}
