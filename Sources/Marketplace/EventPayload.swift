/// The data of one event type: a Codable struct with explicit, stable JSON keys.
///
/// The struct is the shape of the type's *current* schema version. Keys are part of the storage
/// format: never rename one. To change a payload's shape, add an optional field, or raise the
/// type's version in ``EventRegistry/marketplace`` and register an upcaster from the older
/// version (see the storage format article).
public protocol EventPayload: Codable, Hashable, Sendable {
    /// The stored type name, e.g. `GigPosted`. Projectors name the types they read by this
    /// constant, never by a string literal.
    static var eventType: String { get }
}
