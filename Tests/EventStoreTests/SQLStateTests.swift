import Foundation
import PQ
import TestSupport
import Testing

@testable import EventStore

/// GigLedger's own SQLSTATEs are named in `PQ/SQLState.swift`; these tests keep the names and the
/// SQL that raises them in step.
@Suite("GigLedger's SQLSTATE names match the SQL that raises them")
struct SQLStateTests {
    static let named: [SQLState] = [
        .appendConflict, .appendRejected, .appendOnlyViolation, .subjectNotFound, .subjectForgotten, .subjectKeyTaken,
    ]

    @Test func everyCustomCodeInTheMigrationsHasAName() throws {
        let text = Migration.embedded.map(\.sql).joined(separator: "\n")
        let regex = try NSRegularExpression(pattern: "ERRCODE\\s*=\\s*'(GL[0-9A-Z]{3})'")
        let raised = Set(
            regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                Range($0.range(at: 1), in: text).map { SQLState(String(text[$0])) }
            })
        #expect(raised == Set(Self.named), "every GL code raised by a migration, and only those, has a name")
    }

    @Test func aWrongExpectedVersionRaisesAppendConflict() async throws {
        let pool = try await TestDatabase.pool(for: "essqlstate")
        let request = AppendRequest(
            metadata: metadata(),
            streams: [StreamAppend(stream: stream(uniqueCategory()), expected: .exactly(3), events: [event()])])
        let error = await #expect(throws: PQError.self) {
            try await pool.query(try EventStore.appendStatement(request))
        }
        #expect(error?.sqlState == .appendConflict)
        #expect(EventStore.mapAppendError(try #require(error)).code == .wrongExpectedVersion)
    }

    @Test func aMalformedAppendRaisesAppendRejected() async throws {
        let pool = try await TestDatabase.pool(for: "essqlstate")
        let badStream = "Not A Stream"
        let error = await #expect(throws: PQError.self) {
            try await pool.query(
                """
                SELECT ledger.append(gen_random_uuid(), ARRAY[\(badStream)]::text[], ARRAY[-1]::bigint[], ARRAY[1],
                    ARRAY['Fact']::text[], ARRAY[1], ARRAY['{}'::jsonb], ARRAY['{}'::jsonb], ARRAY[NULL::timestamptz])
                """)
        }
        #expect(error?.sqlState == .appendRejected)
        #expect(EventStoreError.from(try #require(error)).code == .invalidAppend)
    }

    @Test func changingAnEventRaisesAppendOnlyViolation() async throws {
        let pool = try await TestDatabase.pool(for: "essqlstate")
        let s = stream(uniqueCategory())
        try await EventStore(pool: pool).append([event()], to: s, expecting: .noStream, metadata: metadata())
        let error = await #expect(throws: PQError.self) {
            try await pool.query("DELETE FROM ledger.events WHERE stream_id = \(s.rawValue)")
        }
        #expect(error?.sqlState == .appendOnlyViolation)
        #expect(EventStoreError.from(try #require(error)).code == .appendOnly)
    }
}
