/// The experience a gig asks for (`GigPosted` v2 `experience`), stored as its lower-case name.
///
/// Matching weighs it against what the log shows a freelancer has done: completed contracts in
/// the gig's skills and their ratings. `any` asks for nothing in particular (and is what a
/// version 1 posting, which did not say, reads as).
public enum ExperienceLevel: String, Hashable, Sendable, Codable, CaseIterable {
    /// Someone starting out is welcome.
    case entry
    /// Some completed work in the gig's skills.
    case intermediate
    /// A track record in the gig's skills.
    case expert
    /// No preference.
    case any
}
