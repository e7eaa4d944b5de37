import Foundation
import PQ
import TestSupport
import Testing

@testable import EventStore

/// ``AppendRequest/prerequisites`` run in the append's own transaction: what they write commits
/// with the events or not at all (issue 15: a new subject's data key, `privacy.store_subject_key`).
@Suite("Statements an append runs first commit with it or not at all")
struct AppendPrerequisiteTests {
    static let masterKeyID = "mk-0123456789abcdef"

    static func storeKey(_ subject: String, _ wrapped: Data) -> SQL {
        "SELECT privacy.store_subject_key(\(subject), \(wrapped), \(masterKeyID))"
    }

    static func keys(_ pool: ConnectionPool, _ subject: String) async throws -> [Data] {
        try await pool.query("SELECT wrapped_key FROM privacy.subject_keys WHERE subject = \(subject)").rows.map {
            try $0.decode(Data.self, at: 0)
        }
    }

    static func wrappedKey() -> Data { Data((0..<60).map { _ in UInt8.random(in: 0...255) }) }

    @Test func aFailingAppendStoresNoKeyAndARefusedKeyStoresNoEvents() async throws {
        let pool = try await TestDatabase.pool(for: "esprerequisites")
        let store = EventStore(pool: pool)
        let subject = "freelancer:\(UUID().uuidString.lowercased())"
        let target = stream(uniqueCategory())
        let first = Self.wrappedKey()

        // The append fails (a version conflict): the key it stored first is rolled back with it.
        let conflicting = AppendRequest(
            metadata: metadata(), streams: [StreamAppend(stream: target, expected: .exactly(3), events: [event()])],
            prerequisites: [Self.storeKey(subject, first)])
        let conflict = await #expect(throws: EventStoreError.self) { try await store.append(conflicting) }
        #expect(conflict?.code == .wrongExpectedVersion)
        #expect(try await Self.keys(pool, subject) == [])

        // The append succeeds: key and events are both there.
        let request = AppendRequest(
            metadata: metadata(), streams: [StreamAppend(stream: target, expected: .noStream, events: [event()])],
            prerequisites: [Self.storeKey(subject, first)])
        let stored = try await store.append(request)
        #expect(!stored.duplicate)
        #expect(try await Self.keys(pool, subject) == [first])

        // Its retry (same command id, same key) is answered with the first result.
        let again = try await store.append(request)
        #expect(again.duplicate && again.events == stored.events)

        // Another key for the subject is refused with GL412 and nothing is appended.
        let other = AppendRequest(
            metadata: metadata(), streams: [StreamAppend(stream: target, expected: .any, events: [event()])],
            prerequisites: [Self.storeKey(subject, Self.wrappedKey())])
        let refused = await #expect(throws: EventStoreError.self) { try await store.append(other) }
        #expect((refused?.cause as? PQError)?.sqlState == .subjectKeyTaken)
        #expect((refused?.cause as? PQError)?.server?.detail == subject)
        #expect(try await store.streamVersion(target) == 1)
        #expect(try await Self.keys(pool, subject) == [first])

        // The same inside a caller's transaction (the handler's locked path).
        let lockedRefusal = await #expect(throws: EventStoreError.self) {
            try await store.withStreamLock([target]) { connection throws(EventStoreError) in
                try await store.append(other, within: connection)
            }
        }
        #expect((lockedRefusal?.cause as? PQError)?.sqlState == .subjectKeyTaken)
        #expect(try await store.streamVersion(target) == 1)
    }

    @Test func aStoreThatGroupsAppendsSendsAnAppendWithPrerequisitesAlone() async throws {
        let pool = try await TestDatabase.pool(for: "esprerequisites")
        let grouped = EventStore(pool: pool, grouping: AppendGrouping())
        let subject = "client:\(UUID().uuidString.lowercased())"
        let target = stream(uniqueCategory())
        let wrapped = Self.wrappedKey()
        let failing = AppendRequest(
            metadata: metadata(), streams: [StreamAppend(stream: target, expected: .exactly(2), events: [event()])],
            prerequisites: [Self.storeKey(subject, wrapped)])
        let conflict = await #expect(throws: EventStoreError.self) { try await grouped.append(failing) }
        #expect(conflict?.code == .wrongExpectedVersion)
        #expect(try await Self.keys(pool, subject) == [])
        let request = AppendRequest(
            metadata: metadata(), streams: [StreamAppend(stream: target, expected: .noStream, events: [event()])],
            prerequisites: [Self.storeKey(subject, wrapped)])
        #expect(try await grouped.append(request).events.count == 1)
        #expect(try await grouped.streamVersion(target) == 1)
        #expect(try await Self.keys(pool, subject) == [wrapped])
    }
}
