import ArgumentParser
import EventStore
import Foundation
import GigLedger
import PQ
import Simulation
import TestSupport
import Testing

@testable import GigCTLCore

@Suite("gigctl log partitions: list, prepare, archive; rebuild and verify with --archive")
struct PartitionCLITests {
    func exitCode(_ arguments: [String]) async -> Int32 {
        do {
            let command = try GigCTL.parseAsRoot(arguments)
            guard let runnable = command as? any AsyncParsableCommand else { return 70 }
            try await run(runnable)
            return 0
        } catch {
            return GigCTL.exitCode(for: error).rawValue
        }
    }

    private func run<C: AsyncParsableCommand>(_ command: C) async throws {
        var copy = command
        try await copy.run()
    }

    @Test func anArchivedPartitionIsReadBackOnlyWhenNamed() async throws {
        let pool = try await TestDatabase.fresh("clipartitions", maxConnections: 6)
        try await TestDatabase.usePartitions(of: 50, ahead: 40, pool)
        let db = ["--database-url", pool.config.target, "--json"]
        let store = EventStore(pool: pool)
        let config = SimulationConfig(
            freelancers: 12, clients: 4, weeks: 2, seed: 17, gigsPerClientPerWeek: 1.5, workers: 2)
        let summary = try await MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests), config: config
        ).run()
        try #require(summary.events > 100, "the simulated log spans more than two partitions")
        #expect(await exitCode(["log", "partitions"] + db) == 0)
        #expect(await exitCode(["log", "partitions", "prepare"] + db) == 0)

        let folder = FileManager.default.temporaryDirectory.appending(path: "gigctl-partitions-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appending(path: "events_1.ndjson").path
        // A stream wholly in the first partition, and one that starts there and goes on after it.
        let spans = try await pool.query(
            """
            SELECT stream_id, min(global_position), max(global_position), max(stream_version)
            FROM ledger.events GROUP BY stream_id ORDER BY stream_id
            """
        ).rows.map {
            (try $0.decode(String.self, at: 0), try $0.decode(Int64.self, at: 1), try $0.decode(Int64.self, at: 2))
        }
        let wholly = try #require(spans.first { $0.2 <= 50 }?.0)
        let partly = try #require(spans.first { $0.1 <= 50 && $0.2 > 50 }?.0)
        let partlyArchived = try await pool.query(
            "SELECT max(stream_version) FROM ledger.events WHERE stream_id = \(partly) AND global_position <= 50"
        ).scalar(Int64.self)
        // Archived once every projection has applied the partition (other suites' open
        // transactions may hold the projectors back for a moment).
        let archived = try await eventually { () async -> Bool? in
            _ = await exitCode(["projections", "run"] + db)
            return await exitCode(["log", "partitions", "archive", "events_1", "--output", file] + db) == 0 ? true : nil
        }
        #expect(archived == true)
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count == 50)
        #expect(await exitCode(["log", "partitions", "archive", "events_1", "--output", file] + db) == 64)
        let again = folder.appending(path: "again.ndjson").path
        #expect(await exitCode(["log", "partitions", "archive", "events_1", "--output", again] + db) == 65)
        #expect(!FileManager.default.fileExists(atPath: again), "a refused archive leaves no file")
        #expect(await exitCode(["log", "partitions", "archive", "events_99", "--output", again] + db) == 65)

        // `streams show` says what it cannot show and where it is.
        #expect(await exitCode(["streams", "show", wholly] + db) == 1)
        #expect(await exitCode(["streams", "show", partly] + db) == 0)
        let partlyStream = try StreamName(validating: partly)
        let shown = try await store.readStream(partlyStream)
        let gaps = ArchivedGap.find(
            in: shown, from: 1, head: try await store.streamVersion(partlyStream), limit: 10_000,
            partitions: try await store.partitions())
        #expect(gaps.map(\.versions) == [1...partlyArchived])
        #expect(gaps.first.map { $0.partitions.map(\.name) } == ["events_1"])
        let message = try #require(gaps.first?.message(stream: partly))
        let sha = try #require(try await store.partitions().first { $0.name == "events_1" }?.archiveSHA256)
        #expect(message.contains("events_1") && message.contains(sha) && message.contains("positions 1…50"))
        let fromPast = ArchivedGap.find(
            in: shown, from: partlyArchived + 1, head: shown.last?.version, limit: 10_000, partitions: [])
        #expect(fromPast.isEmpty, "reading from past the archived versions misses nothing")

        // Without the archive, rebuild and verify refuse; with it they run and agree.
        #expect(await exitCode(["projections", "verify"] + db) == 64)
        #expect(await exitCode(["projections", "rebuild", "--all"] + db) == 64)
        #expect(await exitCode(["projections", "verify", "--archive", file] + db) == 0)
        #expect(await exitCode(["projections", "rebuild", "--all", "--archive", file] + db) == 0)
        #expect(await exitCode(["projections", "verify", "--archive", file] + db) == 0)
        #expect(await exitCode(["projections", "verify", "--skip-archived"] + db) == 1)
        let restoredLeft = try await pool.query(
            "SELECT count(*)::int8 FROM pg_catalog.pg_tables WHERE schemaname = 'ledger' AND tablename LIKE '%restored'"
        ).scalar(Int64.self)
        #expect(restoredLeft == 0, "the restored archive is detached and dropped after each run")
    }
}
