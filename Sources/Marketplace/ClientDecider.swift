/// Decides and applies client events.
public enum ClientDecider: Decider {
    /// Before the stream's first event: not registered.
    public static let initialState = ClientState.unregistered

    /// The events `command` causes. See ``ClientCommand`` for what repeats decide.
    public static func decide(_ command: ClientCommand, _ state: ClientState) throws(DomainError) -> [ClientEvent] {
        let context = command.context
        try Validate.context(context)
        switch context.actor {
        case .client(let id) where id == command.clientID: break
        case .admin: break
        default:
            throw DomainError(
                .notAllowed,
                "Only client \(command.clientID) or an admin may change client \(command.clientID): sign in as them.")
        }
        switch command {
        case .registerClient(let register):
            try Validate.text(register.name, field: "name", length: MarketplaceLimits.nameLength, multiline: false)
            let country = register.country.utf8
            guard country.count == 2, country.allSatisfy({ (65...90).contains($0) }) else {
                throw DomainError(
                    .invalidInput,
                    "country must be an ISO 3166-1 alpha-2 code of two upper-case letters, e.g. DE or US.")
            }
            let registered = ClientEvent.ClientRegistered(
                clientID: register.clientID, name: register.name, country: register.country,
                paymentVerified: register.paymentVerified)
            guard let profile = state.profile else { return [.clientRegistered(registered)] }
            // The name as the handler's fold opened it (erased: the facts decide).
            guard profile.sameFacts(as: registered), PersonalData.matches(profile.name, registered.name) else {
                throw DomainError(
                    .alreadyRegistered, "Client \(register.clientID) is already registered with other details.")
            }
            return []
        }
    }

    /// Applies `event`; events that do not fit the state are ignored.
    public static func evolve(_ state: ClientState, _ event: ClientEvent) -> ClientState {
        switch (state, event) {
        case (.unregistered, .clientRegistered(let registered)): .registered(registered)
        default: state
        }
    }
}
