/// The data of one event type: a Codable struct with explicit, stable JSON keys.
///
/// Keys are part of the storage format: never rename one. To change a payload's shape, add an
/// optional field, or raise ``schemaVersion`` and teach the event enum's decoder to upcast the
/// older versions.
public protocol EventPayload: Codable, Hashable, Sendable {
    /// The stored type name, e.g. `GigPosted`.
    static var eventType: String { get }
    /// The current schema version of the payload.
    static var schemaVersion: Int { get }
}

extension EventPayload {
    public static var schemaVersion: Int { 1 }
}
