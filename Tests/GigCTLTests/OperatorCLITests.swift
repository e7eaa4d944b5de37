import ArgumentParser
import EventStore
import Foundation
import GigLedger
import PQ
import Projections
import Simulation
import TestSupport
import Testing

@testable import GigCTLCore

@Suite("gigctl for operators: verify, rebuild, replay, streams, export and import")
struct OperatorCLITests {
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

    @Test func theCommandsWorkOnASimulatedMarketAndReportProblemsByExitCode() async throws {
        let pool = try await TestDatabase.fresh("cliops", maxConnections: 6)
        let db = ["--database-url", pool.config.target, "--json"]
        let store = EventStore(pool: pool)
        let config = SimulationConfig(
            freelancers: 20, clients: 5, weeks: 2, seed: 9, gigsPerClientPerWeek: 1.5, workers: 3)
        let summary = try await MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests), config: config
        ).run()
        _ = try await eventually {
            try await store.readAll(after: .start, limit: 100_000).events.count >= summary.events ? true : nil
        }

        #expect(await exitCode(["projections", "run"] + db) == 0)
        #expect(await exitCode(["projections", "verify"] + db) == 0)
        #expect(await exitCode(["projections", "rebuild", "competition_gigs", "--batch-size", "100"] + db) == 0)
        #expect(await exitCode(["projections", "rebuild", "no_such_projection"] + db) == 64)
        #expect(await exitCode(["projections", "status"] + db) == 0)
        // The read-model commands print the library's results; bad limits are usage errors.
        let matchable = try await pool.query(
            "SELECT gig_id::text FROM read_models.match_gigs_v4 ORDER BY gig_id LIMIT 1"
        ).scalar(String.self)
        let skill = try await pool.query(
            "SELECT skill FROM read_models.price_weeks_v1 ORDER BY n DESC, skill LIMIT 1"
        ).scalar(String.self)
        #expect(await exitCode(["match", "gig", matchable, "-k", "3"] + db) == 0)
        #expect(await exitCode(["match", "gig", matchable, "-k", "0"] + db) == 64)
        #expect(await exitCode(["stats", "competition", "--gig", matchable] + db) == 0)
        #expect(await exitCode(["stats", "competition", "--weeks", "2", "--limit", "5"] + db) == 0)
        #expect(await exitCode(["stats", "competition", "--limit", "0"] + db) == 64)
        #expect(await exitCode(["stats", "prices", "--skill", skill] + db) == 0)
        #expect(await exitCode(["stats", "prices", "--skill", skill, "--database-url", pool.config.target]) == 0)
        #expect(await exitCode(["stats", "price-wars"] + db) == 0)

        let gig = try await pool.query(
            "SELECT gig_id::text FROM read_models.competition_gigs_v1 ORDER BY gig_id LIMIT 1"
        ).scalar(String.self)
        try await pool.query(
            "UPDATE read_models.competition_gigs_v1 SET bids_total = bids_total + 3 WHERE gig_id = \(gig)::uuid")
        #expect(await exitCode(["projections", "verify", "competition_gigs"] + db) == 1)
        #expect(await exitCode(["replay", "competition_gigs", "--stream", "gig-\(gig)", "--dry-run"] + db) == 0)
        #expect(await exitCode(["projections", "verify", "competition_gigs"] + db) == 1)
        #expect(await exitCode(["replay", "competition_gigs", "--stream", "gig-\(gig)"] + db) == 0)
        #expect(await exitCode(["projections", "verify", "competition_gigs"] + db) == 0)
        #expect(await exitCode(["replay", "competition_gigs"] + db) == 64, "replay needs --from or --stream")
        #expect(await exitCode(["replay", "competition_gigs", "--from", "0"] + db) == 64)

        #expect(await exitCode(["streams", "list", "--category", "gig", "--limit", "2"] + db) == 0)
        #expect(await exitCode(["streams", "show", "gig-\(gig)"] + db) == 0)
        #expect(await exitCode(["streams", "state", "gig-\(gig)", "--at-version", "1"] + db) == 0)
        #expect(await exitCode(["streams", "state", "gig-\(gig)", "--at-version", "999"] + db) == 64)
        #expect(await exitCode(["streams", "state", "not a stream"] + db) == 64)
        #expect(await exitCode(["streams", "state", "gig-\(gig)", "--at-time", "yesterday"] + db) == 64)
        #expect(await exitCode(["log", "tail", "--lines", "3"] + db) == 0)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gigledger-export-\(UUID().uuidString).ndjson"
        ).path
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(await exitCode(["export", "--output", file] + db) == 0)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count
        #expect(lines == summary.events)
        #expect(await exitCode(["import", "--input", file] + db) == 64, "a non-empty log is refused")
        let target = try await TestDatabase.fresh("cliimport", maxConnections: 4)
        let targetDB = ["--database-url", target.config.target, "--json"]
        #expect(await exitCode(["import", "--input", file] + targetDB) == 0)
        #expect(await exitCode(["import", "--input", "/no/such/file"] + targetDB) == 64)
        #expect(
            try await target.query("SELECT count(*)::int8 FROM ledger.events").scalar(Int64.self)
                == Int64(summary.events))
    }
}
