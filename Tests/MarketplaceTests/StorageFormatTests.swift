import Foundation
import Marketplace
import Testing

/// Pins the encoder to the documented storage format (Marketplace.docc/StorageFormat.md) and
/// checks every event type round-trips.
@Suite struct StorageFormatTests {
    /// A section of the storage document: an event type, its table's fields and its example.
    struct DocumentedEvent {
        let type: String
        let tableFields: Set<String>
        let example: String
    }

    static let documentURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Marketplace/Marketplace.docc/StorageFormat.md")

    static func documentedEvents() throws -> [DocumentedEvent] {
        let text = try String(contentsOf: documentURL, encoding: .utf8)
        var events: [DocumentedEvent] = []
        for section in text.components(separatedBy: "\n### ").dropFirst() {
            let type = String(section.prefix { $0 != "\n" })
            let fields = section.split(separator: "\n").filter { $0.hasPrefix("| `") }.compactMap { line in
                line.split(separator: "`").dropFirst().first.map(String.init)
            }
            guard let start = section.range(of: "```json\n"),
                let end = section.range(of: "\n```", range: start.upperBound..<section.endIndex)
            else {
                Issue.record("\(type) has no json example")
                continue
            }
            events.append(
                DocumentedEvent(
                    type: type, tableFields: Set(fields), example: String(section[start.upperBound..<end.lowerBound])))
        }
        return events
    }

    static var allSchemaVersions: [String: Int] {
        Dictionary(uniqueKeysWithValues: EventRegistry.marketplace.schemas.map { ($0.type, $0.version) })
    }

    /// Decodes `encoded` through the registry and encodes it again.
    static func reencode(_ encoded: EncodedEvent) throws -> EncodedEvent {
        switch try EventRegistry.marketplace.decode(encoded) {
        case .freelancer(let event): try event.encoded()
        case .client(let event): try event.encoded()
        case .gig(let event): try event.encoded()
        case .contract(let event): try event.encoded()
        case .privacy(let event): try event.encoded()
        }
    }

    @Test func everyEventTypeIsDocumentedOnce() throws {
        let documented = try Self.documentedEvents().map(\.type)
        #expect(documented.count == 24)
        #expect(Set(documented).count == documented.count)
        #expect(Set(documented) == Set(Self.allSchemaVersions.keys))
        #expect(Self.allSchemaVersions.filter { $0.value != 1 } == ["GigPosted": 2])
    }

    @Test func documentedExamplesAreExactlyWhatTheEncoderWrites() throws {
        for documented in try Self.documentedEvents() {
            // The examples show each type's current version.
            let stored = EncodedEvent(
                type: documented.type, schemaVersion: try #require(Self.allSchemaVersions[documented.type]),
                data: Data(documented.example.utf8))
            let reencoded = try Self.reencode(stored)
            #expect(reencoded.type == documented.type)
            let expected = try JSONDecoder().decode(JSONValue.self, from: stored.data)
            let actual = try JSONDecoder().decode(JSONValue.self, from: reencoded.data)
            #expect(actual == expected, "\(documented.type)")
            guard case .object(let fields) = actual else {
                Issue.record("\(documented.type) does not encode as an object")
                continue
            }
            #expect(
                Set(fields.keys) == documented.tableFields, "\(documented.type): the table must list exactly the fields"
            )
        }
    }

    @Test func samplesCoverEveryEventType() throws {
        let types = try EventSamples.encodedAll().map(\.type)
        #expect(Set(types) == Set(Self.allSchemaVersions.keys))
        #expect(types.count == Self.allSchemaVersions.count)
    }

    @Test func everyEventRoundTrips() throws {
        for event in EventSamples.freelancer {
            let encoded = try event.encoded()
            #expect(encoded.type == event.eventType && encoded.schemaVersion == 1)
            #expect(try FreelancerEvent.decode(encoded) == event)
        }
        for event in EventSamples.client {
            #expect(try ClientEvent.decode(event.encoded()) == event)
        }
        for event in EventSamples.gig {
            let encoded = try event.encoded()
            #expect(encoded.type == event.eventType && encoded.schemaVersion == Self.allSchemaVersions[encoded.type])
            #expect(
                try GigEvent.decode(type: encoded.type, schemaVersion: encoded.schemaVersion, data: encoded.data)
                    == event)
        }
        for event in EventSamples.contract {
            #expect(try ContractEvent.decode(event.encoded()) == event)
        }
        for event in EventSamples.privacy {
            #expect(try PrivacyEvent.decode(event.encoded()) == event)
        }
    }

    @Test func encodingIsCompactAndSorted() throws {
        let encoded = try GigEvent.gigClosed(.init(gigID: Fixtures.gigA, reason: .expired)).encoded()
        #expect(String(decoding: encoded.data, as: UTF8.self) == #"{"gigId":"\#(Fixtures.gigA)","reason":"expired"}"#)
        let started = try EventSamples.contract[0].encoded()
        #expect(
            String(decoding: started.data, as: UTF8.self).hasPrefix(
                #"{"amount":{"currency":"EUR","minorUnits":280000},"bidId":"#))
    }

    @Test func unknownTypesAndVersionsAreTypedErrors() throws {
        let data = try GigEvent.gigClosed(.init(gigID: Fixtures.gigA, reason: .expired)).encoded().data
        expectFailure(.unknownEventType) { _ = try GigEvent.decode(type: "GigExploded", schemaVersion: 1, data: data) }
        expectFailure(.unknownEventType) {
            _ = try ContractEvent.decode(type: "GigClosed", schemaVersion: 1, data: data)
        }
        expectFailure(.unsupportedSchemaVersion) {
            _ = try GigEvent.decode(type: "GigClosed", schemaVersion: 2, data: data)
        }
        expectFailure(.unsupportedSchemaVersion) {
            _ = try GigEvent.decode(type: "GigClosed", schemaVersion: 0, data: data)
        }
        expectFailure(.undecodableEvent) {
            _ = try GigEvent.decode(type: "GigClosed", schemaVersion: 1, data: Data("{".utf8))
        }
        expectFailure(.undecodableEvent) {
            _ = try GigEvent.decode(
                type: "GigClosed", schemaVersion: 1,
                data: Data(#"{"gigId":"\#(Fixtures.gigA)","reason":"exploded"}"#.utf8))
        }
        expectFailure(.undecodableEvent) {
            _ = try GigEvent.decode(type: "GigClosed", schemaVersion: 1, data: Data(#"{"reason":"filled"}"#.utf8))
        }
        expectFailure(.undecodableEvent) {
            _ = try ContractEvent.decode(
                type: "DeliverySubmitted", schemaVersion: 1,
                data: Data(
                    #"{"artifacts":[],"contractId":"\#(Fixtures.contractA)","deliveryId":"\#(Fixtures.delivery(1))","note":"","submittedAt":"yesterday"}"#
                        .utf8))
        }
    }

    @Test func unstorableTimesAreTypedErrors() {
        let event = ContractEvent.deliverySubmitted(
            .init(
                contractID: Fixtures.contractA, deliveryID: Fixtures.delivery(1), note: "", artifacts: [],
                submittedAt: Date(timeIntervalSince1970: -1)))
        expectFailure(.unencodableEvent) { _ = try event.encoded() }
    }

    @Test func decisionsEncodeIntoStreamWrites() throws {
        let write = try StreamWrite(stream: Fixtures.alice.stream, events: EventSamples.freelancer)
        #expect(write.expectation == .versionAsRead)
        #expect(
            write.events.map(\.type) == [
                "FreelancerRegistered", "SkillsUpdated", "RateChanged", "AvailabilityChanged", "PreferencesSet",
            ])
        #expect(try GigDecision.nothing(Fixtures.gigA).writes().isEmpty)
    }
}
