import EventStore
import Foundation
import PQ
import TestSupport

/// A category of its own per test, so tests sharing a database never read each other's events.
func uniqueCategory(_ prefix: String = "t") -> String {
    prefix + String(UInt64.random(in: 0...UInt64.max), radix: 36)
}

func stream(_ category: String, _ id: String = UUID().uuidString.lowercased()) -> StreamName {
    // Test categories are built from letters and digits only.
    (try? StreamName(category: category, id: id)) ?? "invalid-stream"
}

func event(_ type: String = "ThingHappened", _ n: Int = 0, schemaVersion: Int = 1) -> NewEvent {
    NewEvent(type: type, schemaVersion: schemaVersion, data: PGJSON(text: #"{"n": \#(n)}"#))
}

func metadata(_ commandId: UUID = UUID(), actor: String = "system") -> EventMetadata {
    EventMetadata(actor: actor, commandId: commandId)
}

/// Reads every event of `categories` after `checkpoint`, waiting (boundedly) until at least
/// `count` are visible: other suites' transactions on the same server may briefly hold back
/// gap-safe readers.
func readAll(_ store: EventStore, categories: [String], atLeast count: Int, after checkpoint: LogCheckpoint = .start)
    async throws -> [RecordedEvent]
{
    var events: [RecordedEvent] = []
    var cursor = checkpoint
    _ = try await eventually { () async throws -> Bool? in
        while true {
            let batch = try await store.readAll(after: cursor, limit: 500, categories: categories)
            events += batch.events
            cursor = batch.next
            if batch.events.isEmpty { break }
        }
        return events.count >= count ? true : nil
    }
    return events
}
