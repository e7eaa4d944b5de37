import Foundation
import Marketplace
import Testing

/// A test-only history of `ClientRegistered`: version 1 stored `countryCode` and `verified`,
/// version 2 renamed `countryCode` to `country`, version 3 (today's struct) renamed `verified` to
/// `paymentVerified`.
enum ClientRegisteredV3 {
    static let v1: JSONValue = [
        "clientId": "c1000000-0000-0000-0000-000000000001", "name": "Ada", "countryCode": "DE", "verified": true,
    ]
    static let v2: JSONValue = [
        "clientId": "c1000000-0000-0000-0000-000000000001", "name": "Ada", "country": "DE", "verified": true,
    ]

    static let oneToTwo = EventRegistry.Upcast(from: 1, example: v1) { old in
        guard let code = old["countryCode"] else { throw DomainError(.undecodableEvent, "v1 without countryCode") }
        var new = old
        new["countryCode"] = nil
        new["country"] = code
        return new
    }
    static let twoToThree = EventRegistry.Upcast(from: 2, example: v2) { old in
        var new = old
        new["paymentVerified"] = old["verified"] ?? false
        new["verified"] = nil
        return new
    }

    static func registry(_ upcasts: [EventRegistry.Upcast] = [oneToTwo, twoToThree]) -> EventRegistry {
        var registry = EventRegistry.marketplace
        registry.register(ClientEvent.ClientRegistered.self, version: 3, upcasts: upcasts) {
            ClientEvent.clientRegistered($0)
        }
        return registry
    }

    static func stored(_ version: Int, _ value: JSONValue) throws -> EncodedEvent {
        EncodedEvent(type: "ClientRegistered", schemaVersion: version, data: try JSONEncoder().encode(value))
    }
}

@Suite("The event registry: schema versions and upcasters")
struct EventRegistryTests {
    let ada = ClientEvent.clientRegistered(
        .init(
            clientID: ClientID(uuidString: "c1000000-0000-0000-0000-000000000001")!, name: "Ada", country: "DE",
            paymentVerified: true))

    @Test func everyVersionUpcastsStepByStepToTheCurrentShape() throws {
        let registry = ClientRegisteredV3.registry()
        #expect(try ClientEvent.decode(ClientRegisteredV3.stored(1, ClientRegisteredV3.v1), in: registry) == ada)
        #expect(try ClientEvent.decode(ClientRegisteredV3.stored(2, ClientRegisteredV3.v2), in: registry) == ada)
        let current = try ada.encoded(in: registry)
        #expect(current.schemaVersion == 3)
        #expect(try ClientEvent.decode(current, in: registry) == ada)
        let upcast = try registry.upcast(ClientRegisteredV3.stored(1, ClientRegisteredV3.v1))
        #expect(upcast.schemaVersion == 3)
        #expect(
            try JSONDecoder().decode(JSONValue.self, from: upcast.data)
                == JSONDecoder().decode(JSONValue.self, from: current.data))
        #expect(try registry.decode(ClientRegisteredV3.stored(1, ClientRegisteredV3.v1)) == .client(ada))
    }

    /// Every upcaster registered — in the shipped registry and in the test's — reads its example
    /// through every later step into the current payload; no version lacks its step.
    @Test(arguments: [("shipped", EventRegistry.marketplace), ("test v3", ClientRegisteredV3.registry())])
    func everyRegisteredUpcasterPathReads(_ name: String, _ registry: EventRegistry) throws {
        #expect(registry.types.count == 22)
        for schema in registry.schemas {
            #expect(
                schema.missingUpcasts.isEmpty, "\(name): \(schema.type) lacks upcasters from \(schema.missingUpcasts)")
            for upcast in schema.upcasts.values {
                let stored = EncodedEvent(
                    type: schema.type, schemaVersion: upcast.from, data: try JSONEncoder().encode(upcast.example))
                let decoded = try registry.decode(stored)
                #expect(decoded.eventType == schema.type)
            }
        }
    }

    @Test func theShippedRegistryKnowsEveryAggregatesTypesAtVersionOne() {
        let byCategory = Dictionary(grouping: EventRegistry.marketplace.schemas, by: \.category)
        #expect(byCategory[.freelancer]?.count == 4)
        #expect(byCategory[.client]?.count == 1)
        #expect(byCategory[.gig]?.count == 7)
        #expect(byCategory[.contract]?.count == 10)
        #expect(EventRegistry.marketplace.schemas.allSatisfy { $0.version == 1 && $0.upcasts.isEmpty })
    }

    func failure(_ body: () throws -> Void) -> DomainError? {
        do {
            try body()
            return nil
        } catch let error as DomainError { return error } catch { return nil }
    }

    @Test func unknownTypesVersionsAndGapsAreTypedErrorsWordedForAPerson() throws {
        let registry = ClientRegisteredV3.registry()
        let unknown = failure {
            _ = try registry.decode(EncodedEvent(type: "GigExploded", schemaVersion: 1, data: Data("{}".utf8)))
        }
        #expect(unknown?.code == .unknownEventType)
        #expect(
            unknown?.message.contains("GigExploded (schema version 1) is not one this version of GigLedger knows")
                == true)
        #expect(unknown?.message.contains("upgrade") == true)

        let newer = failure { _ = try registry.decode(ClientRegisteredV3.stored(4, ClientRegisteredV3.v2)) }
        #expect(newer?.code == .unsupportedSchemaVersion)
        #expect(
            newer?.message
                == "ClientRegistered schema version 4 is newer than version 3, the newest this version of GigLedger reads: upgrade GigLedger to read it."
        )

        let zero = failure { _ = try registry.decode(ClientRegisteredV3.stored(0, ClientRegisteredV3.v1)) }
        #expect(zero?.code == .unsupportedSchemaVersion)
        #expect(zero?.message.contains("versions start at 1") == true)

        let gap = ClientRegisteredV3.registry([ClientRegisteredV3.twoToThree])
        #expect(gap.schema(of: "ClientRegistered")?.missingUpcasts == [1])
        let missing = failure { _ = try gap.decode(ClientRegisteredV3.stored(1, ClientRegisteredV3.v1)) }
        #expect(missing?.code == .unsupportedSchemaVersion)
        #expect(missing?.message.contains("no upcaster turns version 1 into 2") == true)
        #expect(try gap.decode(ClientRegisteredV3.stored(2, ClientRegisteredV3.v2)) == .client(ada))

        let wrongShape = failure { _ = try registry.decode(ClientRegisteredV3.stored(1, ClientRegisteredV3.v2)) }
        #expect(wrongShape?.code == .undecodableEvent)
        #expect(wrongShape?.message.contains("from schema version 1 to 2 failed") == true)

        let notJSON = failure {
            _ = try registry.decode(EncodedEvent(type: "ClientRegistered", schemaVersion: 1, data: Data("{".utf8)))
        }
        #expect(notJSON?.code == .undecodableEvent)

        let wrongAggregate = failure { _ = try GigEvent.decode(ada.encoded(in: registry), in: registry) }
        #expect(wrongAggregate?.code == .unknownEventType)
        #expect(wrongAggregate?.message.contains("belongs to client streams, not to a gig stream") == true)
    }

    @Test func anUnregisteredTypeCannotBeEncoded() {
        let error = failure { _ = try ada.encoded(in: EventRegistry()) }
        #expect(error?.code == .unencodableEvent)
        #expect(error?.message.contains("ClientRegistered event is not registered") == true)
    }
}
