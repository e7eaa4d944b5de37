import Foundation
import PQ
import Synchronization
import TestSupport
import Testing

@testable import EventStore

@Suite("A log partitioned by position range")
struct PartitionTests {
    /// The out-of-order commit of GapSafeReadingTests, across partition boundaries: an older
    /// transaction appends last while 8 writers append to shared and own streams through five
    /// partitions, and partitions are attached meanwhile.
    @Test func eightWritersAcrossPartitionBoundariesStayGapSafeWithUniqueVersions() async throws {
        let pool = try await TestDatabase.fresh("partwriters", maxConnections: 12)
        try await TestDatabase.usePartitions(of: 25, ahead: 12, pool)
        let store = EventStore(pool: pool)
        let category = uniqueCategory("part")
        let shared = (0..<3).map { _ in stream(category) }

        // A takes its transaction id before every writer and appends after all of them.
        let connectionA = try await Connection.connect(pool.config)
        try await connectionA.execute("BEGIN")
        _ = try await connectionA.query("SELECT pg_current_xact_id()")

        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    let own = stream(category)
                    for i in 0..<10 {
                        try await store.append(
                            [event("Shared", writer * 100 + i)], to: shared[(writer + i) % 3], expecting: .any,
                            metadata: metadata())
                        try await store.append(
                            [event("Own", 2 * i), event("Own", 2 * i + 1)], to: own,
                            expecting: i == 0 ? .noStream : .exactly(Int64(2 * i)), metadata: metadata())
                    }
                }
            }
            // Partitions attached while the writers append (ATTACH takes no lock they wait on).
            group.addTask {
                _ = try await pool.query("UPDATE ledger.event_partitioning SET partitions_ahead = 16")
                let made = try await store.preparePartitions()
                #expect(!made.isEmpty)
            }
            try await group.waitForAll()
        }

        // While A is open nothing after it is readable, though 240 events have committed.
        let whileOpen = try await store.readAll(after: .start, limit: 1000, categories: [category])
        #expect(whileOpen.events.isEmpty)
        let requestA = AppendRequest(
            metadata: metadata(),
            streams: [StreamAppend(stream: stream(category), expected: .noStream, events: [event("FromA")])])
        let resultA = try AppendResult(
            json: try await connectionA.query(EventStore.appendStatement(requestA)).scalar(PGJSON.self))
        try await connectionA.execute("COMMIT")
        await connectionA.close()

        // A reader in small batches from the checkpoint it had sees every event exactly once.
        var events: [RecordedEvent] = []
        var cursor = whileOpen.next
        _ = try await eventually { () async throws -> Bool? in
            while true {
                let batch = try await store.readAll(after: cursor, limit: 7, categories: [category])
                events += batch.events
                cursor = batch.next
                if batch.events.isEmpty { break }
            }
            return events.count >= 241 ? true : nil
        }
        if events.count != 241 {
            Issue.record("read \(events.count) of 241: \(await TestDatabase.horizonHolders(pool))")
        }
        #expect(Set(events.map(\.position)).count == events.count)
        #expect(events.first?.type == "FromA", "the oldest transaction comes first in gap-safe order")
        #expect(resultA.positions[0] == events.map(\.position).max())

        // Versions: every stream 1…n, none repeated, whichever partitions its events are in.
        let byStream = Dictionary(grouping: events, by: \.stream)
        for (name, streamEvents) in byStream {
            let versions = streamEvents.map(\.version).sorted()
            #expect(versions == Array(1...Int64(versions.count)), "\(name) has versions \(versions)")
        }
        #expect(shared.map { byStream[$0]?.count ?? 0 }.reduce(0, +) == 80)
        let partitionsUsed = try await pool.query(
            "SELECT count(DISTINCT tableoid)::int8 FROM ledger.events WHERE category = \(category)"
        ).scalar(Int64.self)
        #expect(partitionsUsed >= 9, "241 events over partitions of 25 positions")
    }

    /// The migration path: a log written before 0012 becomes the first partition, in place.
    @Test func theUnpartitionedLogBecomesTheFirstPartition() async throws {
        let pool = try await TestDatabase.fresh("partmigrate", migrated: false)
        _ = try await pool.withConnection { conn in
            try await Migrator(migrations: Migration.embedded.filter { $0.version < 12 }).migrate(on: conn)
        }
        let store = EventStore(pool: pool)
        let category = uniqueCategory("mig")
        let s = stream(category)
        try await store.append(
            [event("Before", 1), event("Before", 2)], to: s, expecting: .noStream, metadata: metadata())
        _ = try await pool.withConnection { conn in try await Migrator().migrate(on: conn) }

        let partitions = try await store.partitions()
        try #require(partitions.count == 5)
        #expect(partitions[0].name == "events_1")
        #expect(partitions[0].firstPosition == 1 && partitions[0].endPosition == 3)
        #expect(partitions.allSatisfy { $0.state == .attached })
        #expect(partitions[1].firstPosition == 3 && partitions[1].endPosition == 3 + 10_000_000)

        try await store.append([event("After", 3)], to: s, expecting: .exactly(2), metadata: metadata())
        #expect(try await store.readStream(s).map(\.version) == [1, 2, 3])
        let homes = try await pool.query(
            "SELECT tableoid::regclass::text FROM ledger.events WHERE stream_id = \(s.rawValue) ORDER BY stream_version"
        ).rows.map { try $0.decode(String.self, at: 0) }
        #expect(homes == ["ledger.events_1", "ledger.events_1", "ledger.events_3"])

        // Append-only on the first partition, on a new one and on one made later, for the owner
        // too (the empty later one has no row to refuse: its triggers are checked in the catalog).
        let later = try #require(try await TestDatabase.usePartitions(of: 100, pool).last)
        for table in ["events_1", "events_3", later] {
            for statement: SQL in [
                "UPDATE ledger.\(identifier: table) SET data = '{}'", "DELETE FROM ledger.\(identifier: table)",
                "TRUNCATE ledger.\(identifier: table)",
            ] where table != later || statement.text.hasPrefix("TRUNCATE") {
                let error = await #expect(throws: PQError.self) { _ = try await pool.query(statement) }
                #expect(error?.sqlState == .appendOnlyViolation, "\(statement.text)")
            }
        }
        let triggers = try await pool.query(
            """
            SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_catalog.pg_trigger
            WHERE tgrelid = to_regclass('ledger.' || quote_ident(\(later)))
            """
        ).scalar(String.self)
        #expect(triggers == "events_append_only,events_no_truncate")
        // Within a partition a repeated version is refused by its unique index as well.
        let duplicate = await #expect(throws: PQError.self) {
            try await pool.query(
                """
                INSERT INTO ledger.events (stream_id, stream_version, category, event_type, schema_version, data, metadata, occurred_at)
                VALUES (\(s.rawValue), 3, \(category), 'After', 1, '{}', '{}', now())
                """)
        }
        #expect(duplicate?.sqlState == .uniqueViolation)
        #expect(try await store.readStream(s).count == 3)
    }

    @Test func aPartitionedLogExportsAndImportsUnchanged() async throws {
        let source = try await TestDatabase.fresh("partexport")
        try await TestDatabase.usePartitions(of: 20, ahead: 6, source)
        let store = EventStore(pool: source)
        let category = uniqueCategory("exp")
        for i in 0..<30 {
            try await store.append(
                [event("Exported", 2 * i), event("Exported", 2 * i + 1)], to: stream(category), expecting: .noStream,
                metadata: metadata())
        }
        let exported = Bytes()
        let count = try await store.export { exported.append($0) }
        #expect(count == 60)

        // Into a log of 10 M-position partitions, and into one of 7-position partitions made by
        // the import itself (it makes the partitions its positions need).
        for size: Int64 in [10_000_000, 7] {
            let target = try await TestDatabase.fresh("partimport")
            try await TestDatabase.usePartitions(of: size, ahead: 1, target)
            let bytes = exported.data
            let report = try await EventStore(pool: target).importLog { writer in try writer.write(bytes) }
            #expect(report.events == 60 && report.streams == 30 && report.commands == 30)
            let again = Bytes()
            try await EventStore(pool: target).export { again.append($0) }
            #expect(again.data == bytes, "partitions of \(size): the export of the import is the export")
            let used = try await target.query("SELECT count(DISTINCT tableoid)::int8 FROM ledger.events").scalar(
                Int64.self)
            #expect(used == (size == 7 ? 9 : 1))
        }
    }

    @Test func onlyAPartitionTheLogHasMovedPastIsArchived() async throws {
        let pool = try await TestDatabase.fresh("partrefuse")
        try await TestDatabase.usePartitions(of: 10, pool)
        let store = EventStore(pool: pool)
        try await store.append(
            [event("Only")], to: stream(uniqueCategory("ref")), expecting: .noStream, metadata: metadata())
        for name in ["events_1", "events_99"] {
            let error = await #expect(throws: EventStoreError.self) {
                try await store.archivePartition(name) { _ in }
            }
            #expect(error?.code == .archive, "\(name)")
        }
        #expect(try await store.partitions().first?.state == .attached)
    }

    @Test func anAppendPastTheLastPartitionSaysWhatToRun() async throws {
        let pool = try await TestDatabase.fresh("partmissing")
        try await TestDatabase.usePartitions(of: 2, ahead: 1, pool)
        let store = EventStore(pool: pool)
        let s = stream(uniqueCategory("miss"))
        try await store.append([event("Fits"), event("Fits")], to: s, expecting: .noStream, metadata: metadata())
        let error = await #expect(throws: EventStoreError.self) {
            try await store.append([event("TooFar")], to: s, expecting: .exactly(2), metadata: metadata())
        }
        #expect(error?.message.contains("gigctl log partitions prepare") == true, "\(String(describing: error))")
        #expect(try await store.preparePartitions().count == 2, "the one holding the failed position, and one ahead")
        try await store.append([event("Fits")], to: s, expecting: .exactly(2), metadata: metadata())
        #expect(try await store.readStream(s).map(\.version) == [1, 2, 3])
    }
}

/// Bytes collected from an export's writer (which may be called from the connection's thread).
final class Bytes: Sendable {
    private let storage = Mutex(Data())
    func append(_ bytes: UnsafeRawBufferPointer) { storage.withLock { $0.append(contentsOf: bytes) } }
    var data: Data { storage.withLock { $0 } }
}
