/// How a gig's work is paid (`GigPosted` v2 `engagement`): `{"kind": "fixedPrice"}` or
/// `{"kind": "hourly", "hours": 40}`. The budget is the gig's total either way; for hourly work
/// it covers ``hours`` hours (1–2000, ``MarketplaceLimits/engagementHours``).
public enum Engagement: Hashable, Sendable, Codable {
    /// One price for the whole gig (what a version 1 posting reads as).
    case fixedPrice
    /// Paid by the hour, for about `hours` hours.
    case hourly(hours: Int)

    /// The hours of an hourly engagement; nil for a fixed price.
    public var hours: Int? {
        if case .hourly(let hours) = self { return hours }
        return nil
    }

    /// `fixedPrice` or `hourly`.
    public var kind: String {
        switch self {
        case .fixedPrice: "fixedPrice"
        case .hourly: "hourly"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case kind
        case hours
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .kind) {
        case "fixedPrice": self = .fixedPrice
        case "hourly": self = .hourly(hours: try container.decode(Int.self, forKey: .hours))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container,
                debugDescription: "engagement kind \(other.prefix(40)) is not fixedPrice or hourly")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        if case .hourly(let hours) = self { try container.encode(hours, forKey: .hours) }
    }
}
