import EventStore
import PQ
import Projections

/// A shipped projector applied the way projectors worked before set-based batches: one event at
/// a time (each event its own few statements). Same name, version and tables: a baseline.
struct EventByEvent: Projector {
    let inner: any Projector
    var name: String { inner.name }
    var version: Int { inner.version }
    var tables: [String] { inner.tables }
    func prepare(on connection: Connection) async throws { try await inner.prepare(on: connection) }
    func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        try await inner.apply(event, on: connection)
    }
    func apply(batch events: [RecordedEvent], on connection: Connection) async throws {
        for event in events { try await inner.apply(event, on: connection) }
    }
}
