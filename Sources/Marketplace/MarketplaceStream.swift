import Foundation

/// The name of one aggregate's stream: `<category>-<uuid in lower case>`, e.g.
/// `gig-3f2a9c1e-8b7d-4e21-a0b1-c2d3e4f56789`.
///
/// There is exactly one spelling per stream: parsing rejects upper-case UUIDs, so a stream can
/// never be split across two names.
public struct MarketplaceStream: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The stream's category.
    public let category: StreamCategory
    /// The id of the entity that owns the stream.
    public let id: UUID

    /// The stream of the `category` entity `id`.
    public init(category: StreamCategory, id: UUID) {
        self.category = category
        self.id = id
    }

    /// Parses `name`.
    ///
    /// - Throws: ``DomainError/Code/invalidStreamName`` unless `name` is a known category, a
    ///   hyphen and a lower-case UUID.
    public init(parsing name: String) throws(DomainError) {
        guard let dash = name.firstIndex(of: "-"),
            let category = StreamCategory(rawValue: String(name[..<dash]))
        else {
            throw DomainError(
                .invalidStreamName,
                "The stream name \(name.prefix(80)) has no known category: use freelancer-, client-, gig- or contract- followed by a lower-case UUID."
            )
        }
        let idText = String(name[name.index(after: dash)...])
        guard idText == idText.lowercased(), let id = UUID(uuidString: idText) else {
            throw DomainError(
                .invalidStreamName,
                "The stream name \(name.prefix(80)) does not end in a lower-case UUID: use \(category.rawValue)-<uuid in lower case>."
            )
        }
        self.init(category: category, id: id)
    }

    /// The stream name as stored.
    public var name: String { "\(category.rawValue)-\(id.uuidString.lowercased())" }

    public var description: String { name }

    /// Byte order of the names, as PostgreSQL's C collation compares them (the order an append
    /// locks streams in).
    public static func < (lhs: Self, rhs: Self) -> Bool {
        // Byte order of the names, as PostgreSQL's C collation compares them.
        lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
    }
}
