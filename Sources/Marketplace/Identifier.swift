import Foundation

/// What an ``Identifier`` identifies: a phantom type that keeps a `GigID` from being passed where a
/// `BidID` is expected.
public protocol IdentifierKind: Sendable {
    /// A lower-case noun for messages, e.g. `gig`.
    static var noun: String { get }
}

/// An ``IdentifierKind`` whose entities each own an event stream.
public protocol StreamIdentifierKind: IdentifierKind {
    /// The category of the entity's stream.
    static var category: StreamCategory { get }
}

/// A typed UUID: ``FreelancerID``, ``ClientID``, ``GigID``, ``BidID``, ``ContractID``,
/// ``DeliveryID``, ``DisputeID``, ``CommandID``.
///
/// Encodes as a plain lower-case UUID string (`"3f2a9c1e-…"`); decodes any case. Ordered by the
/// UUID's bytes, which is also the order of their lower-case strings, so ties broken "by id" agree
/// between Swift and the database's C collation.
public struct Identifier<Kind: IdentifierKind>: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The wrapped UUID.
    public let uuid: UUID

    /// Wraps `uuid`.
    public init(_ uuid: UUID) {
        self.uuid = uuid
    }

    /// Parses a UUID string in any case; `nil` when `text` is not a UUID.
    public init?(uuidString text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// The lower-case UUID string, as stored.
    public var description: String { uuid.uuidString.lowercased() }

    /// Byte order of the UUID, the same as the order of the lower-case strings.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.uuid.sortsBefore(rhs.uuid)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let uuid = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "A \(Kind.noun) id must be a UUID string.")
        }
        self.uuid = uuid
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Identifier where Kind: StreamIdentifierKind {
    /// The entity's stream, e.g. `gig-3f2a9c1e-…`.
    public var stream: MarketplaceStream { MarketplaceStream(category: Kind.category, id: uuid) }

    /// The entity's stream name, e.g. `gig-3f2a9c1e-…`.
    public var streamName: String { stream.name }

    /// The id of the entity whose stream is `streamName`.
    ///
    /// - Throws: ``DomainError/Code/invalidStreamName`` when the name is malformed or of another
    ///   category.
    public init(streamName: String) throws(DomainError) {
        let stream = try MarketplaceStream(parsing: streamName)
        guard stream.category == Kind.category else {
            throw DomainError(
                .invalidStreamName,
                "The stream \(streamName) is a \(stream.category.rawValue) stream; a \(Kind.noun) id needs a \(Kind.category.rawValue)-<uuid> stream name."
            )
        }
        self.init(stream.id)
    }
}

/// Dictionaries keyed by an identifier (a gig's bids, a contract's deliveries) encode as JSON
/// objects keyed by the lower-case UUID, as `gigctl streams state` prints them.
extension Identifier: CodingKeyRepresentable {
    /// The lower-case UUID string.
    public var codingKey: any CodingKey { IdentifierCodingKey(stringValue: description) }
    /// Reads a key holding a UUID string; `nil` for any other key.
    public init?<T: CodingKey>(codingKey: T) { self.init(uuidString: codingKey.stringValue) }
}

private struct IdentifierCodingKey: CodingKey {
    let stringValue: String
    init(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}
