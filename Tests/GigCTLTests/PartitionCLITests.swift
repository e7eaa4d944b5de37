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
