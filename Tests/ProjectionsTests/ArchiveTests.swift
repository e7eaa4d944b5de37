import EventStore
import Foundation
import PQ
import Projections
import TestSupport
import Testing

/// Archival of old partitions (`EventStore.archivePartition`) on the golden log spread over
/// partitions of 200 positions: detached while the daemon follows, and read back by a rebuild
/// that gives the read models recorded before.
@Suite("Archived partitions: detached under a following daemon, read back by a rebuild")
struct ArchiveTests {
    @Test func aRebuildWithTheArchiveGivesTheReadModelsOfTheWholeLog() async throws {
        let pool = try await TestDatabase.fresh("archive", maxConnections: 8)
        try await TestDatabase.usePartitions(of: 200, pool)
        let store = EventStore(pool: pool)
        let bytes = try Data(contentsOf: GoldenLogTests.log)
        let report = try await store.importLog { writer in try writer.write(bytes) }
        #expect(report.events == 702)
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "archive")
        try await engine.prepare()
        try await catchUp(engine, to: report.headPosition)
        let before = try await GoldenLogTests.digests(pool)

        // The daemon follows while the oldest partition is archived.
        let daemon = Task { try await engine.follow(fallbackPoll: .milliseconds(200)) }
        defer { daemon.cancel() }
        let folder = FileManager.default.temporaryDirectory.appending(path: "gigledger-archive-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appending(path: "events_1.ndjson")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        let archive = try await store.archivePartition("events_1", dropTable: true) {
            try handle.write(contentsOf: Data($0))
        }
        try handle.close()
        #expect(archive.events == 200 && archive.firstPosition == 1 && archive.endPosition == 201 && archive.dropped)
        let oldest = try await pool.query("SELECT min(global_position) FROM ledger.events").scalar(Int64.self)
        #expect(oldest == 201, "the archived events left the log")
        #expect(try await store.partitions().first?.state == .archived)

        // The daemon goes on: an event appended after the detach is applied.
        let appended = try await store.append(
            [NewEvent(type: "ArchiveProbe", schemaVersion: 1, data: PGJSON(text: "{}"))],
            to: try StreamName(category: "probe", id: UUID().uuidString.lowercased()), expecting: .noStream,
            metadata: EventMetadata(actor: "system", commandId: UUID()))
        let caughtUp = try await eventually {
            try await engine.status().allSatisfy { $0.checkpoint >= appended.positions[0] && $0.state == "running" }
                ? true : nil
        }
        if caughtUp != true {
            Issue.record("the daemon did not apply the event: \(await TestDatabase.horizonHolders(pool))")
        }
        daemon.cancel()
        #expect(try await GoldenLogTests.digests(pool) == before, "archival does not touch the read models")

        // Without the archive a rebuild lacks the archived history (or stops at an event that
        // needs it); with it, it is the same.
        if (try? await engine.rebuild(ShippedProjectors.all)) != nil {
            #expect(try await GoldenLogTests.digests(pool) != before)
        }
        let restored = try await store.withRestoredArchives([file.path]) { restored in
            #expect(try await pool.query("SELECT count(*)::int8 FROM ledger.events").scalar(Int64.self) == 703)
            _ = try await engine.rebuild(ShippedProjectors.all, restart: true)
            return restored
        }
        #expect(restored.map(\.events) == [200])
        #expect(
            try await GoldenLogTests.digests(pool) == before, "a rebuild with the archive gives the same read models")
        #expect(try await pool.query("SELECT count(*)::int8 FROM ledger.events").scalar(Int64.self) == 503)

        // A changed archive file (here: its last line gone) is refused, and nothing is attached.
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 200)
        try (lines.dropLast().joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let error = await #expect(throws: EventStoreError.self) {
            try await store.withRestoredArchives([file.path]) { _ in }
        }
        #expect(error?.code == .archive)
        #expect(try await pool.query("SELECT count(*)::int8 FROM ledger.events").scalar(Int64.self) == 503)
    }

    /// Other suites' open transactions may hold the gap-safe horizon back for a moment.
    private func catchUp(_ engine: ProjectionEngine, to head: Int64) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(120))
        repeat {
            try await engine.catchUpAll()
        } while try await engine.status().contains(where: { $0.checkpoint < head }) && ContinuousClock.now < deadline
    }
}
