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
        #expect(registry.types.count == 24)
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

    @Test func theShippedRegistryKnowsEveryAggregatesTypesAtTheirVersions() {
        let byCategory = Dictionary(grouping: EventRegistry.marketplace.schemas, by: \.category)
        #expect(byCategory[.freelancer]?.count == 5)
        #expect(byCategory[.client]?.count == 1)
        #expect(byCategory[.gig]?.count == 7)
        #expect(byCategory[.contract]?.count == 10)
        let evolved = EventRegistry.marketplace.schemas.filter { $0.version != 1 || !$0.upcasts.isEmpty }
        #expect(evolved.map(\.type) == ["GigPosted"])
        #expect(evolved.first?.version == 2 && evolved.first?.upcasts.keys.sorted() == [1])
    }

    /// `GigPosted` v1 in every shape it was stored in (with and without a description, one skill
    /// or many, any currency) reads as v2 with the documented defaults: `any`, `fixedPrice`.
    @Test func gigPostedVersionOneUpcastsWithTheDocumentedDefaults() throws {
        let registry = EventRegistry.marketplace
        let base: [String: JSONValue] = [
            "gigId": "61000000-0000-4000-8000-000000000001", "clientId": "c1000000-0000-4000-8000-000000000001",
            "title": "Old", "skills": ["nlp"], "budgetMin": ["currency": "JPY", "minorUnits": 1],
            "budgetMax": ["currency": "JPY", "minorUnits": 9], "biddingClosesAt": "2026-01-15T00:00:00.000Z",
        ]
        for description: JSONValue in ["", "Two\nlines"] {
            for skills: JSONValue in [["nlp"], ["llm-fine-tuning", "nlp", "python"]] {
                var v1 = base
                v1["description"] = description
                v1["skills"] = skills
                let stored = EncodedEvent(
                    type: "GigPosted", schemaVersion: 1, data: try JSONEncoder().encode(JSONValue.object(v1)))
                guard case .gig(.gigPosted(let posted)) = try registry.decode(stored) else {
                    Issue.record("a GigPosted v1 did not decode as GigPosted")
                    continue
                }
                #expect(posted.experience == .any)
                #expect(posted.engagement == .fixedPrice)
                #expect(posted.skills.count == (skills == ["nlp"] ? 1 : 3))
                let upcast = try JSONDecoder().decode(JSONValue.self, from: try registry.upcast(stored).data)
                #expect(upcast["experience"] == "any")
                #expect(upcast["engagement"] == ["kind": "fixedPrice"])
                #expect(try registry.upcast(stored).schemaVersion == 2)
            }
        }
        // Data that already says either is not version 1: refused, not silently overwritten.
        var wrong = base
        wrong["description"] = ""
        wrong["experience"] = "expert"
        let error = failure {
            _ = try registry.decode(
                EncodedEvent(
                    type: "GigPosted", schemaVersion: 1, data: try JSONEncoder().encode(JSONValue.object(wrong))))
        }
        #expect(error?.code == .undecodableEvent)
        // Version 2 data without the new fields is refused (they are required from version 2 on).
        var bare = base
        bare["description"] = ""
        let missing = failure {
            _ = try registry.decode(
                EncodedEvent(
                    type: "GigPosted", schemaVersion: 2, data: try JSONEncoder().encode(JSONValue.object(bare))))
        }
        #expect(missing?.code == .undecodableEvent)
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
