/// Who issues a command and is recorded on its events.
///
/// Named `ActorRef` rather than `Actor` so it never shadows Swift's `Actor` protocol in modules
/// that import `Marketplace`. Encodes as one string, the same form as the event store's metadata:
/// `client:<uuid>`, `freelancer:<uuid>`, `admin:<name>` or `system`.
public enum ActorRef: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A client acting for themselves.
    case client(ClientID)
    /// A freelancer acting for themselves.
    case freelancer(FreelancerID)
    /// A platform operator, by login name.
    case admin(String)
    /// The platform's timers and process managers.
    case system

    /// The stored form, e.g. `client:3f2a9c1e-…`.
    public var description: String {
        switch self {
        case .client(let id): "client:\(id)"
        case .freelancer(let id): "freelancer:\(id)"
        case .admin(let name): "admin:\(name)"
        case .system: "system"
        }
    }

    /// Parses the stored form.
    ///
    /// - Throws: ``DomainError/Code/invalidInput`` for anything else.
    public init(parsing text: String) throws(DomainError) {
        if text == "system" {
            self = .system
            return
        }
        let invalid = DomainError(
            .invalidInput,
            "The actor \(text.prefix(60)) is not client:<uuid>, freelancer:<uuid>, admin:<name> or system.")
        guard let colon = text.firstIndex(of: ":") else { throw invalid }
        let kind = text[..<colon]
        let rest = String(text[text.index(after: colon)...])
        switch kind {
        case "client":
            guard let id = ClientID(uuidString: rest) else { throw invalid }
            self = .client(id)
        case "freelancer":
            guard let id = FreelancerID(uuidString: rest) else { throw invalid }
            self = .freelancer(id)
        case "admin":
            guard !rest.isEmpty else { throw invalid }
            self = .admin(rest)
        default:
            throw invalid
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try ActorRef(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
