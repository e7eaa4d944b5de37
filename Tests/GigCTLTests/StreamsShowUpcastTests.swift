import ArgumentParser
import EventStore
import Foundation
import Marketplace
import PQ
import TestSupport
import Testing

@testable import GigCTLCore

@Suite("streams show --upcast: the data as GigLedger reads it")
struct StreamsShowUpcastTests {
    @Test func anOlderVersionIsShownUpcastAndAnUnknownTypeAsStored() async throws {
        let pool = try await TestDatabase.fresh("showupcast")
        let store = EventStore(pool: pool)
        let client = UUID().uuidString.lowercased()
        let stream = try StreamName(validating: "client-\(client)")
        // Version 1 of a test-only history in which ClientRegistered v2 renamed `countryCode`.
        try await store.append(
            [
                NewEvent(
                    type: "ClientRegistered", schemaVersion: 1,
                    data: PGJSON(
                        text: #"{"clientId":"\#(client)","countryCode":"DE","name":"C","paymentVerified":false}"#)),
                NewEvent(type: "ClientRenamedByAnotherTool", data: PGJSON(text: "{}")),
            ], to: stream, expecting: .noStream, metadata: EventMetadata(actor: "system", commandId: UUID()))
        var registry = EventRegistry.marketplace
        registry.register(
            ClientEvent.ClientRegistered.self, version: 2,
            upcasts: [
                EventRegistry.Upcast(from: 1, example: ["clientId": .string(client), "countryCode": "DE", "name": "C"])
                {
                    var v2 = $0
                    v2["country"] = $0["countryCode"]
                    v2["countryCode"] = nil
                    return v2
                }
            ]
        ) { ClientEvent.clientRegistered($0) }
        let events = try await store.readStream(stream)
        let shown = try EventView(events[0], upcastWith: registry)
        #expect(shown.schemaVersion == 2)
        #expect(shown.data["country"] == "DE" && shown.data["countryCode"] == nil)
        #expect(EventView(events[0]).schemaVersion == 1)
        #expect(throws: DomainError.self) { try EventView(events[1], upcastWith: registry) }

        // The command: an event it cannot read is shown as stored, and the command succeeds.
        var command = try #require(
            try GigCTL.parseAsRoot([
                "streams", "show", stream.rawValue, "--upcast", "--database-url", pool.config.target,
            ])
                as? any AsyncParsableCommand)
        try await command.run()
    }
}
