/// Why a client declined a bid; shown to the freelancer. Stored as the raw value.
///
/// Append only: stored events name these values.
public enum BidDeclineReason: String, Hashable, Sendable, Codable, CaseIterable {
    /// The price is above what the client will pay.
    case priceTooHigh
    /// The estimated time is too long.
    case timelineTooLong
    /// The freelancer's skills do not fit the gig.
    case skillsMismatch
    /// The client prefers other bids.
    case preferredOtherBid
    /// Another reason, not given.
    case other
}
