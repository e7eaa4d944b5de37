/// A freelancer, as folded from their stream.
public enum FreelancerState: Equatable, Sendable, Encodable {
    /// No `FreelancerRegistered` yet.
    case unregistered
    /// Registered, with the current profile.
    case registered(FreelancerProfile)

    /// The profile, when registered.
    public var profile: FreelancerProfile? {
        if case .registered(let profile) = self { return profile }
        return nil
    }

    /// Whether the freelancer is registered. A command handler passes this as
    /// ``GigCommand/PlaceBid/bidderRegistered``.
    public var isRegistered: Bool { profile != nil }
}

/// A registered freelancer's current profile.
public struct FreelancerProfile: Equatable, Sendable, Encodable {
    /// The freelancer's id (the stream's id).
    public let id: FreelancerID
    /// The current name.
    public internal(set) var name: String
    /// Sorted by slug.
    public internal(set) var skills: [SkillProficiency]
    /// The current hourly rate.
    public internal(set) var hourlyRate: Money
    /// Hours a week the freelancer is available, 0…168.
    public internal(set) var hoursPerWeek: Int
    /// ``FreelancerPreferences/none`` until the freelancer sets some.
    public internal(set) var preferences: FreelancerPreferences
    /// The registration as first recorded, so a repeated registration can be recognised.
    public let registration: FreelancerEvent.FreelancerRegistered

    init(_ registration: FreelancerEvent.FreelancerRegistered) {
        id = registration.freelancerID
        name = registration.name
        skills = registration.skills
        hourlyRate = registration.hourlyRate
        hoursPerWeek = registration.hoursPerWeek
        preferences = .none
        self.registration = registration
    }
}
