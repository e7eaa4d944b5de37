import Foundation

/// An event in its storage form: type name, schema version and JSON data.
///
/// The event store keeps these three as columns (`event_type`, `schema_version`, `data`); the
/// actor, command id and business time travel separately as the append's metadata.
public struct EncodedEvent: Hashable, Sendable {
    /// The CamelCase past-tense name, e.g. `BidPlaced`. Never renamed.
    public let type: String
    /// The version of the data's shape (1 for every event today).
    public let schemaVersion: Int
    /// A JSON object with camelCase keys, sorted, without whitespace.
    public let data: Data

    /// An event in storage form; `data` must hold a JSON object (the store refuses anything else).
    public init(type: String, schemaVersion: Int, data: Data) {
        self.type = type
        self.schemaVersion = schemaVersion
        self.data = data
    }
}
