import EventStore
import Foundation
import Marketplace

extension RecordedEvent {
    /// The event read through `registry` (upcast to its type's current schema version), or
    /// ``UnhandledEvent`` naming this event and saying why.
    func decoded(with registry: EventRegistry) throws(UnhandledEvent) -> MarketplaceEvent {
        do {
            return try registry.decode(EncodedEvent(type: type, schemaVersion: schemaVersion, data: data.data))
        } catch {
            throw UnhandledEvent(event: self, reason: error.message)
        }
    }
}

/// Ordered keys with last-write-wins values: a batch folded to the final value per key, in the
/// order keys were first seen (so statements built from it are deterministic).
struct LastWins<Key: Hashable, Value> {
    private(set) var keys: [Key] = []
    private var values: [Key: Value] = [:]
    mutating func set(_ key: Key, _ value: Value) {
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }
    var isEmpty: Bool { keys.isEmpty }
    var entries: [(key: Key, value: Value)] { keys.compactMap { key in values[key].map { (key, $0) } } }
    subscript(key: Key) -> Value? { values[key] }
}
