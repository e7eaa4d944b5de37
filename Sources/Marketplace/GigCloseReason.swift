/// Why a gig closed. Stored as the raw value in `GigClosed`.
public enum GigCloseReason: String, Hashable, Sendable, Codable, CaseIterable {
    /// Its contract completed (Awarded → Completed).
    case filled
    /// The client (or an admin) cancelled it while open, or its contract was cancelled.
    case cancelled
    /// Bidding closed with no award.
    case expired
}
