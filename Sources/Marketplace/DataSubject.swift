/// A natural person whose personal data the marketplace holds: a freelancer, or a client (the
/// client's contact person). Each has a data key of their own; forgetting them destroys it.
///
/// Stored as `freelancer:<uuid>` or `client:<uuid>` (the key id in a personal field's envelope
/// and the `subject` of `PersonalDataErased`).
public enum DataSubject: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    case freelancer(FreelancerID)
    case client(ClientID)

    /// The stored form, e.g. `freelancer:3f2a9c1e-…`.
    public var description: String {
        switch self {
        case .freelancer(let id): "freelancer:\(id)"
        case .client(let id): "client:\(id)"
        }
    }

    /// The subject's own stream (`freelancer-…` or `client-…`).
    public var stream: MarketplaceStream {
        switch self {
        case .freelancer(let id): id.stream
        case .client(let id): id.stream
        }
    }

    /// The stream that records the subject's erasure: `privacy-<uuid>`.
    public var privacyStream: MarketplaceStream {
        switch self {
        case .freelancer(let id): MarketplaceStream(category: .privacy, id: id.uuid)
        case .client(let id): MarketplaceStream(category: .privacy, id: id.uuid)
        }
    }

    /// Parses the stored form.
    ///
    /// - Throws: ``DomainError/Code/invalidInput`` for anything but `freelancer:<uuid>` or
    ///   `client:<uuid>` (lower case).
    public init(parsing text: String) throws(DomainError) {
        let invalid = DomainError(
            .invalidInput, "The data subject \(text.prefix(60)) is not freelancer:<uuid> or client:<uuid>.")
        guard let colon = text.firstIndex(of: ":") else { throw invalid }
        let rest = String(text[text.index(after: colon)...])
        guard rest == rest.lowercased() else { throw invalid }
        switch text[..<colon] {
        case "freelancer":
            guard let id = FreelancerID(uuidString: rest) else { throw invalid }
            self = .freelancer(id)
        case "client":
            guard let id = ClientID(uuidString: rest) else { throw invalid }
            self = .client(id)
        default: throw invalid
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do { self = try DataSubject(parsing: try container.decode(String.self)) } catch let error as DomainError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }
}
