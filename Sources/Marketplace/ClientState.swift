/// A client, as folded from their stream.
public enum ClientState: Equatable, Sendable, Encodable {
    /// No `ClientRegistered` yet.
    case unregistered
    /// Registered.
    case registered(ClientEvent.ClientRegistered)

    /// The registration, when registered.
    public var profile: ClientEvent.ClientRegistered? {
        if case .registered(let profile) = self { return profile }
        return nil
    }

    /// Whether the client is registered. A command handler passes this as
    /// ``GigCommand/PostGig/clientRegistered``.
    public var isRegistered: Bool { profile != nil }
}
