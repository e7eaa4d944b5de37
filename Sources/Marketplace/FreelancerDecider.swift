/// Decides and applies freelancer events.
public enum FreelancerDecider: Decider {
    /// Before the stream's first event: not registered.
    public static let initialState = FreelancerState.unregistered

    /// The events `command` causes. See ``FreelancerCommand`` for what repeats decide.
    public static func decide(_ command: FreelancerCommand, _ state: FreelancerState) throws(DomainError)
        -> [FreelancerEvent]
    {
        let context = command.context
        try Validate.context(context)
        switch context.actor {
        case .freelancer(let id) where id == command.freelancerID: break
        case .admin: break
        default:
            throw DomainError(
                .notAllowed,
                "Only freelancer \(command.freelancerID) or an admin may change freelancer \(command.freelancerID): sign in as them."
            )
        }

        switch command {
        case .registerFreelancer(let register):
            let registered = try registration(register)
            guard let profile = state.profile else { return [.freelancerRegistered(registered)] }
            // The name as the handler's fold opened it (erased: the facts decide).
            guard profile.registration.sameFacts(as: registered),
                PersonalData.matches(profile.registration.name, registered.name)
            else {
                throw DomainError(
                    .alreadyRegistered,
                    "Freelancer \(command.freelancerID) is already registered with other details: update skills, rate or availability instead."
                )
            }
            return []
        case .updateSkills(let update):
            let profile = try registeredProfile(state, command.freelancerID)
            let skills = try Validate.freelancerSkills(update.skills)
            guard skills != profile.skills else { return [] }
            return [.skillsUpdated(.init(freelancerID: profile.id, skills: skills))]
        case .changeRate(let change):
            let profile = try registeredProfile(state, command.freelancerID)
            try Validate.positiveAmount(change.hourlyRate, field: "hourlyRate")
            guard change.hourlyRate != profile.hourlyRate else { return [] }
            return [.rateChanged(.init(freelancerID: profile.id, hourlyRate: change.hourlyRate))]
        case .changeAvailability(let change):
            let profile = try registeredProfile(state, command.freelancerID)
            try Validate.number(change.hoursPerWeek, field: "hoursPerWeek", in: MarketplaceLimits.hoursPerWeek)
            guard change.hoursPerWeek != profile.hoursPerWeek else { return [] }
            return [.availabilityChanged(.init(freelancerID: profile.id, hoursPerWeek: change.hoursPerWeek))]
        case .setPreferences(let set):
            let profile = try registeredProfile(state, command.freelancerID)
            let preferences = try Validate.preferences(set)
            guard preferences != profile.preferences else { return [] }
            return [.preferencesSet(.init(freelancerID: profile.id, preferences: preferences))]
        }
    }

    /// Applies `event`; events that do not fit the state are ignored.
    public static func evolve(_ state: FreelancerState, _ event: FreelancerEvent) -> FreelancerState {
        switch (state, event) {
        case (.unregistered, .freelancerRegistered(let registered)):
            return .registered(FreelancerProfile(registered))
        case (.registered(var profile), .skillsUpdated(let updated)):
            profile.skills = updated.skills
            return .registered(profile)
        case (.registered(var profile), .rateChanged(let changed)):
            profile.hourlyRate = changed.hourlyRate
            return .registered(profile)
        case (.registered(var profile), .availabilityChanged(let changed)):
            profile.hoursPerWeek = changed.hoursPerWeek
            return .registered(profile)
        case (.registered(var profile), .preferencesSet(let set)):
            profile.preferences = set.preferences
            return .registered(profile)
        default:
            return state
        }
    }

    private static func registeredProfile(_ state: FreelancerState, _ id: FreelancerID) throws(DomainError)
        -> FreelancerProfile
    {
        guard let profile = state.profile else {
            throw DomainError(.freelancerNotFound, "Freelancer \(id) is not registered: register them first.")
        }
        return profile
    }

    private static func registration(
        _ command: FreelancerCommand.RegisterFreelancer
    ) throws(DomainError) -> FreelancerEvent.FreelancerRegistered {
        try Validate.text(command.name, field: "name", length: MarketplaceLimits.nameLength, multiline: false)
        let skills = try Validate.freelancerSkills(command.skills)
        try Validate.positiveAmount(command.hourlyRate, field: "hourlyRate")
        try Validate.number(command.hoursPerWeek, field: "hoursPerWeek", in: MarketplaceLimits.hoursPerWeek)
        if let country = command.country {
            let letters = country.utf8
            guard letters.count == 2, letters.allSatisfy({ (65...90).contains($0) }) else {
                throw DomainError(
                    .invalidInput,
                    "country must be an ISO 3166-1 alpha-2 code of two upper-case letters, e.g. DE or US.")
            }
        }
        return .init(
            freelancerID: command.freelancerID, name: command.name, skills: skills,
            hourlyRate: command.hourlyRate, hoursPerWeek: command.hoursPerWeek, country: command.country)
    }
}
