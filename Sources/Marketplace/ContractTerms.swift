/// The platform terms a contract starts with, fixed for its whole life (a later change of the
/// platform's policy does not touch running contracts).
public struct ContractTerms: Hashable, Sendable, Codable {
    /// Days the client has to review a delivery before the system approves it:
    /// ``MarketplaceLimits/reviewWindowDays``.
    public var reviewWindowDays: Int
    /// The platform's fee on the gross payment, in basis points (1000 = 10 %):
    /// ``MarketplaceLimits/platformFeeBasisPoints``. Rounded half to even in minor units.
    public var platformFeeBasisPoints: Int

    /// Terms with a review window of `reviewWindowDays` days and a fee of `platformFeeBasisPoints`
    /// basis points; ``ContractDecider`` validates them when a contract starts.
    public init(reviewWindowDays: Int, platformFeeBasisPoints: Int) {
        self.reviewWindowDays = reviewWindowDays
        self.platformFeeBasisPoints = platformFeeBasisPoints
    }

    /// The standard terms: a 14-day review window and a 10 % platform fee.
    public static let standard = ContractTerms(reviewWindowDays: 14, platformFeeBasisPoints: 1000)
}
