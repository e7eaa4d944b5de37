/// The bounds input validation enforces. Lengths count characters (grapheme clusters); a text is
/// also refused above four UTF-8 bytes per allowed character, so one "character" of thousands of
/// combining marks cannot slip through.
public enum MarketplaceLimits {
    /// The largest amount in minor units: 10^12 (ten billion of a two-digit currency).
    public static let maximumAmountMinorUnits: Int64 = 1_000_000_000_000
    /// Gig titles.
    public static let titleLength: ClosedRange<Int> = 1...200
    /// Gig descriptions and delivery notes (newlines and tabs allowed).
    public static let maximumDescriptionLength = 5000
    /// Freelancer and client names.
    public static let nameLength: ClosedRange<Int> = 1...200
    /// Review texts, change-request and dispute reasons, resolution notes.
    public static let maximumReviewTextLength = 2000
    /// Review ratings.
    public static let rating: ClosedRange<Int> = 1...5
    /// A freelancer's available hours per week.
    public static let hoursPerWeek: ClosedRange<Int> = 0...168
    /// A bid's estimated days of work.
    public static let estimatedDays: ClosedRange<Int> = 1...365
    /// Skills a gig asks for.
    public static let gigSkillCount: ClosedRange<Int> = 1...20
    /// Skills a freelancer offers.
    public static let freelancerSkillCount: ClosedRange<Int> = 1...50
    /// How far ahead a gig's bidding deadline may be, in days.
    public static let maximumBiddingDays = 365
    /// Artifact references per delivery.
    public static let maximumArtifacts = 20
    /// One artifact reference (a URL or storage key).
    public static let artifactReferenceLength: ClosedRange<Int> = 1...2000
    /// A contract's delivery review window, in days.
    public static let reviewWindowDays: ClosedRange<Int> = 1...30
    /// The platform fee, in basis points (at most 50 %).
    public static let platformFeeBasisPoints: ClosedRange<Int> = 0...5000
    /// The hours of an hourly gig.
    public static let engagementHours: ClosedRange<Int> = 1...2000
    /// Currencies accepted and skills wanted, in a freelancer's preferences.
    public static let preferenceListCount: ClosedRange<Int> = 0...20
    /// A freelancer's own limit on contracts at once.
    public static let maxConcurrentContracts: ClosedRange<Int> = 1...50
    /// An admin's login name.
    public static let adminNameLength: ClosedRange<Int> = 1...100
}
