import EventStore
import Foundation
import PQ
import TestSupport
import Testing

/// The current (v2) shape of an event whose v1 had a single `amount` in whole units.
struct BudgetSet: Codable, Equatable, Sendable {
    let minMinor: Int
    let maxMinor: Int
    let currency: String
}

@Suite("Event versions: a registry with upcasters")
struct EventRegistryTests {
    static var registry: EventRegistry<BudgetSet> {
        var registry = EventRegistry<BudgetSet>()
        registry.register("BudgetSet", version: 2) { try JSONDecoder().decode(BudgetSet.self, from: $0) }
        // v1 → v2: one whole-unit amount became a range in minor units with a currency.
        registry.upcast("BudgetSet", from: 1) { old in
            guard case .number(let amount)? = old["amount"] else {
                throw EventStoreError(.undecodableEvent, "v1 BudgetSet without amount")
            }
            return .object([
                "minMinor": .number(amount * 100), "maxMinor": .number(amount * 100), "currency": .string("EUR"),
            ])
        }
        return registry
    }

    @Test func aVersionOneEventStoredInTheLogReadsAsTheCurrentVersion() async throws {
        let store = EventStore(pool: try await TestDatabase.pool(for: "esregistry"))
        let s = stream(uniqueCategory())
        try await store.append(
            [
                NewEvent(type: "BudgetSet", schemaVersion: 1, data: PGJSON(text: #"{"amount": 250}"#)),
                NewEvent(
                    type: "BudgetSet", schemaVersion: 2,
                    data: try PGJSON(encoding: BudgetSet(minMinor: 100, maxMinor: 900, currency: "USD"))),
            ], to: s, expecting: .noStream, metadata: metadata())
        let stored = try await store.readStream(s)
        #expect(stored.map(\.schemaVersion) == [1, 2])
        let decoded = try stored.map { try Self.registry.decode($0) }
        #expect(
            decoded == [
                BudgetSet(minMinor: 25_000, maxMinor: 25_000, currency: "EUR"),
                BudgetSet(minMinor: 100, maxMinor: 900, currency: "USD"),
            ])
    }

    @Test func unknownTypesAndFutureVersionsAreTypedErrors() throws {
        let unknown = #expect(throws: EventStoreError.self) {
            try Self.registry.decode(type: "Mystery", schemaVersion: 1, data: Data("{}".utf8))
        }
        #expect(unknown?.code == .unknownEventType)
        #expect(unknown?.message.contains("Mystery") == true)
        let future = #expect(throws: EventStoreError.self) {
            try Self.registry.decode(type: "BudgetSet", schemaVersion: 3, data: Data("{}".utf8))
        }
        #expect(future?.code == .unknownEventType)
        let broken = #expect(throws: EventStoreError.self) {
            try Self.registry.decode(type: "BudgetSet", schemaVersion: 2, data: Data(#"{"minMinor": "x"}"#.utf8))
        }
        #expect(broken?.code == .undecodableEvent)
    }
}
