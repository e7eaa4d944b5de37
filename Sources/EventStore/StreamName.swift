/// A stream's name: `category-id`, for example `gig-4f1c…`. The category is the part before the
/// first hyphen (lower-case letters and digits); the id is the rest.
public struct StreamName: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    /// Validates `rawValue`; throws ``EventStoreError/Code/invalidStreamName`` naming it.
    public init(validating rawValue: String) throws(EventStoreError) {
        guard StreamName.isValid(rawValue) else {
            throw EventStoreError(
                .invalidStreamName,
                "\"\(rawValue.prefix(80))\" is not a stream name: use category-id, with a lower-case category of letters and digits (up to 40) and an id of letters, digits and . _ : - (up to 200), e.g. gig-6f1c0e4e-…."
            )
        }
        self.rawValue = rawValue
    }

    /// A stream in `category` for `id`.
    public init(category: String, id: String) throws(EventStoreError) {
        try self.init(validating: "\(category)-\(id)")
    }

    /// For literals in code and tests; an invalid literal is a programming error.
    public init(stringLiteral value: String) {
        precondition(StreamName.isValid(value), "invalid stream name literal \(value)")
        rawValue = value
    }

    /// The part before the first hyphen (`gig`).
    public var category: String { String(rawValue.prefix { $0 != "-" }) }
    /// Everything after the first hyphen (may itself contain hyphens).
    public var id: String { String(rawValue.drop { $0 != "-" }.dropFirst()) }
    public var description: String { rawValue }
    /// Byte order of the names, as PostgreSQL's C collation compares them: the order an append
    /// locks streams in.
    public static func < (lhs: StreamName, rhs: StreamName) -> Bool {
        // Byte order, as PostgreSQL's C collation compares text (the order locks are taken in).
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(validating: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")), dash >= 1, dash <= 40 else { return false }
        let category = bytes[..<dash]
        let id = bytes[(dash + 1)...]
        guard let first = category.first, (97...122).contains(first) else { return false }
        guard category.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) }) else { return false }
        guard (1...200).contains(id.count) else { return false }
        return id.allSatisfy { c in
            (97...122).contains(c) || (65...90).contains(c) || (48...57).contains(c)
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: ":") || c == UInt8(ascii: "-")
        }
    }
}

/// What an append expects of a stream's current version (optimistic concurrency).
public enum ExpectedVersion: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Append whatever the version.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream must exist (any version).
    case streamExists
    /// The stream must be at exactly this version (its number of events).
    case exactly(Int64)

    /// The encoding `ledger.append` takes: -1 any, -2 exists, 0 no stream, n exactly n.
    var code: Int64 {
        switch self {
        case .any: -1
        case .streamExists: -2
        case .noStream: 0
        case .exactly(let version): version
        }
    }

    init(code: Int64) {
        switch code {
        case -1: self = .any
        case -2: self = .streamExists
        case 0: self = .noStream
        default: self = .exactly(code)
        }
    }

    public var description: String {
        switch self {
        case .any: "any version"
        case .noStream: "no stream"
        case .streamExists: "an existing stream"
        case .exactly(let version): "version \(version)"
        }
    }
}
