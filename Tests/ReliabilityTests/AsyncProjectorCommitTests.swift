import EventStore
import Foundation
import GigLedger
import PQ
import Projections
import Simulation
import TestSupport
import Testing

/// The projection daemon commits asynchronously by default. An immediate shutdown of PostgreSQL
/// (crash recovery at the next start) can then lose its last batches — but only together with
/// their checkpoints, which are then applied again: no checkpoint is ever ahead of or behind its
/// data, and the read models end equal to a rebuild from zero.
@Suite("Asynchronous projector commits through server crashes", .serialized)
struct AsyncProjectorCommitTests {
    @Test func immediateShutdownsUnderTheDaemonLoseNoBatchForGood() async throws {
        let gigctl = try Tools.gigctl()
        let cluster = try await ThrowawayCluster.start("asyncproj")
        defer { cluster.destroy() }
        let url = cluster.config.target
        let pool = ConnectionPool(config: cluster.config, maxConnections: 6, acquireTimeout: .seconds(120))
        let store = EventStore(pool: pool)
        let simulator = MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests),
            config: SimulationConfig(
                freelancers: 40, clients: 12, weeks: 3, seed: 8, gigsPerClientPerWeek: 1.5, workers: 4))
        let summary = try await simulator.run()
        #expect(summary.unexpectedRejections == 0)

        // The daemon (asynchronous commits: its default) follows while the server crashes under it.
        // Small batches, so the crashes fall in the middle of its catching up.
        let daemon = try ChildProcess.spawn(
            gigctl, ["projections", "run", "--follow", "--batch-size", "20", "--database-url", url])
        let head = try await pool.query("SELECT max(global_position) FROM ledger.events").scalar(Int64.self)
        var crashes = 0
        var crashedMidway = 0
        for _ in 0..<3 {
            // Let it apply some batches, then crash the server mid-stream.
            _ = try await eventually(timeout: .seconds(60)) { () async throws -> Bool? in
                let moved = try? await pool.query(
                    "SELECT coalesce(max(global_position), 0) > 0 FROM ledger.projections"
                ).scalar(Bool.self)
                return moved == true ? true : nil
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...400)))
            if let least = try? await pool.query("SELECT coalesce(min(global_position), 0) FROM ledger.projections")
                .scalar(Int64.self), least < head
            {
                crashedMidway += 1
            }
            try await cluster.restart(mode: "immediate")
            crashes += 1
            let violations = try await Tools.checkpointViolations(url)
            #expect(violations.isEmpty, "after crash \(crashes): \(violations.prefix(3))")
        }
        // The daemon reconnects by itself and catches up.
        let caughtUp = try await eventually(timeout: .seconds(120)) { () async throws -> Bool? in
            let status = try? await ProjectionEngine(store: store, projectors: ShippedProjectors.all).status()
            guard let status, !status.isEmpty else { return nil }
            let current = status.filter { row in
                ShippedProjectors.all.contains { $0.name == row.name && $0.version == row.version }
            }
            return current.count == ShippedProjectors.all.count
                && current.allSatisfy { $0.lagEvents == 0 && $0.state == "running" } ? true : nil
        }
        daemon.kill9()
        _ = await daemon.waitInBackground()
        #expect(caughtUp == true, "the daemon came back after the crashes and caught up")
        #expect(crashedMidway > 0, "at least one crash hit the daemon while it was applying")
        #expect(try await Tools.checkpointViolations(url).isEmpty)
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "verifier")
        for projector in ShippedProjectors.all {
            let report = try await engine.verify(projector)
            #expect(report.identical, "\(projector.name): \(report.differences.prefix(2))")
        }
        await pool.close()
    }
}
