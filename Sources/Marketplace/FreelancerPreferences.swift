/// A freelancer's own terms (`PreferencesSet`), which matching respects and explains: the least
/// budget a gig must offer, the currencies they take, the skills they want more work in, and how
/// many contracts they take on at once. A freelancer who never set any has ``none``.
public struct FreelancerPreferences: Hashable, Sendable, Codable {
    /// Gigs whose budget maximum lies below this (in its currency) do not interest them; nil: any.
    public var minimumBudget: Money?
    /// The currencies they accept, sorted; empty: any.
    public var currencies: [Currency]
    /// Skills they want more of, sorted; may be empty.
    public var wantedSkills: [Skill]
    /// At most this many active contracts at once (1–50); nil: no limit of their own.
    public var maxConcurrentContracts: Int?

    /// Preferences as given, not checked: `decide` builds validated, sorted ones from a
    /// `SetPreferences` command.
    public init(minimumBudget: Money?, currencies: [Currency], wantedSkills: [Skill], maxConcurrentContracts: Int?) {
        self.minimumBudget = minimumBudget
        self.currencies = currencies
        self.wantedSkills = wantedSkills
        self.maxConcurrentContracts = maxConcurrentContracts
    }

    /// No preference at all.
    public static let none = FreelancerPreferences(
        minimumBudget: nil, currencies: [], wantedSkills: [], maxConcurrentContracts: nil)
}
