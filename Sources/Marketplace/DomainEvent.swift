import Foundation

/// An aggregate's event enum: each case wraps one ``EventPayload``.
public protocol DomainEvent: Hashable, Sendable {
    /// Every event type of this enum with its current schema version; useful to register
    /// decoders with the event store.
    static var schemaVersions: [String: Int] { get }

    /// The stored type name of this event, e.g. `BidPlaced`.
    var eventType: String { get }

    /// The schema version this event encodes with.
    var schemaVersion: Int { get }

    /// The storage form of this event.
    ///
    /// - Throws: ``DomainError/Code/unencodableEvent`` (only for values `decide` never produces,
    ///   such as a time outside the years 1970–9999).
    func encoded() throws(DomainError) -> EncodedEvent

    /// Reads a stored event.
    ///
    /// - Throws: ``DomainError/Code/unknownEventType`` for a type this enum does not have,
    ///   ``DomainError/Code/unsupportedSchemaVersion`` for a version it cannot read, and
    ///   ``DomainError/Code/undecodableEvent`` for data that does not fit the type.
    static func decode(_ event: EncodedEvent) throws(DomainError) -> Self
}

extension DomainEvent {
    /// Reads a stored event from its three columns.
    public static func decode(type: String, schemaVersion: Int, data: Data) throws(DomainError) -> Self {
        try decode(EncodedEvent(type: type, schemaVersion: schemaVersion, data: data))
    }
}
