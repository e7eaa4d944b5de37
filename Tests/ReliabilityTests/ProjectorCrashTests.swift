import EventStore
import Foundation
import GigLedger
import PQ
import Projections
import Simulation
import TestSupport
import Testing

/// `gigctl projections run --follow` killed with SIGKILL at random points while a simulated
/// market appends: after every kill no projector's checkpoint is ahead of (or behind) its read
/// model, and at the end the read models equal a rebuild from zero.
///
/// Sizes: `GIGLEDGER_CHAOS_KILLS` kills (default 5); `scripts/chaos` runs ≥ 20 on ≥ 100k events.
@Suite("Projector daemons killed with SIGKILL", .serialized)
struct ProjectorCrashTests {
    static let kills = ProcessInfo.processInfo.environment["GIGLEDGER_CHAOS_KILLS"].flatMap(Int.init) ?? 5

    @Test func aKilledDaemonNeverLeavesACheckpointAheadOfItsData() async throws {
        let gigctl = try Tools.gigctl()
        let pool = try await TestDatabase.fresh("crash", maxConnections: 8)
        let url = pool.config.target
        let store = EventStore(pool: pool)
        // Tables and checkpoints exist before the first kill.
        let first = try await ChildProcess.run(gigctl, ["projections", "run", "--database-url", url])
        #expect(first.exitCode == 0, "\(first.stderr)")
        let simulator = MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests),
            config: SimulationConfig(
                freelancers: 60, clients: 20, weeks: 4, seed: 5, gigsPerClientPerWeek: 1.5, workers: 4))
        let market = Task { try await simulator.run() }
        var killed = 0
        var appliedBetweenKills = 0
        for round in 0..<Self.kills {
            let before = try await applied(pool)
            // Two daemons at once: the lease lets only one apply batches; neither double-applies.
            let daemons = try (0..<2).map { _ in
                try ChildProcess.spawn(gigctl, ["projections", "run", "--follow", "--database-url", url])
            }
            // A random point: every other round as soon as a batch has landed (mid-run, whatever
            // the machine's speed), otherwise after a random pause (maybe before any batch).
            if round % 2 == 0 {
                _ = try await eventually(timeout: .seconds(120)) { try await applied(pool) > before ? true : nil }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...200)))
            } else {
                try await Task.sleep(for: .milliseconds(Int.random(in: 150...900)))
            }
            for daemon in daemons {
                daemon.kill9()
                let ended = await daemon.waitInBackground()
                #expect(ended.signal == SIGKILL, "the daemon died of the kill, not before: \(ended.stderr)")
                killed += 1
            }
            appliedBetweenKills += try await applied(pool) - before
            #expect(try await Tools.checkpointViolations(url) == [])
            // Its pid is gone, so its leases can go at once (otherwise they expire in 30 s).
            for daemon in daemons {
                try await pool.query(
                    """
                    UPDATE ledger.projections SET lease_owner = NULL, lease_until = NULL WHERE lease_owner LIKE ('%:' || \(String(daemon.pid)))
                    """)
            }
        }
        let summary = try await market.value
        #expect(summary.unexpectedRejections == 0)
        #expect(killed == 2 * Self.kills)
        #expect(appliedBetweenKills > 0, "the daemons did work between kills")

        // To the head, then compare with a rebuild from zero.
        _ = try await eventually(timeout: .seconds(120)) { () async throws -> Bool? in
            let run = try await ChildProcess.run(gigctl, ["projections", "run", "--database-url", url])
            #expect(run.exitCode == 0, "\(run.stderr)")
            let lag = try await pool.query("SELECT coalesce(max(lag_events), 0) FROM read_models.projection_status")
                .scalar(Int64.self)
            let readable = try await store.readAll(after: .start, limit: 1_000_000).events.count
            return lag == 0 && readable >= summary.events ? true : nil
        }
        #expect(try await Tools.checkpointViolations(url) == [])
        let live = try await ReadModelFingerprint.of(pool)
        // The check can fail: a checkpoint moved back behind its data is reported, and so is a
        // batch counted twice.
        try await pool.query(
            "UPDATE ledger.projections SET events_applied = events_applied + 1 WHERE name = 'price_trends'")
        try await pool.query(
            "UPDATE ledger.projections SET transaction_id = '0', global_position = 0 WHERE name = 'matching'")
        let planted = try await Tools.checkpointViolations(url)
        #expect(planted.contains { $0.hasPrefix("matching|match_gigs_v4|") })
        #expect(planted.contains { $0.hasPrefix("price_trends|events_applied|") })
        try await ReadModelFingerprint.rebuildFromZero(pool)
        let rebuilt = try await ReadModelFingerprint.of(pool)
        #expect(live.count >= 8)
        #expect(live == rebuilt, "a killed-and-resumed run differs from a rebuild from zero")
        Figures.record(
            "projector-kills",
            [
                "kills": killed, "events": summary.events, "appliedBetweenKills": appliedBetweenKills,
                "checkpointViolations": 0,
            ])
    }

    func applied(_ pool: ConnectionPool) async throws -> Int {
        try await pool.query("SELECT coalesce(sum(events_applied), 0)::bigint FROM ledger.projections").scalar(Int.self)
    }
}

/// A fingerprint of every read-model table, and a rebuild from zero in place (for comparing).
enum ReadModelFingerprint {
    static func tables(_ pool: ConnectionPool) async throws -> [String] {
        try await pool.query(
            """
            SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'read_models' AND table_type = 'BASE TABLE' ORDER BY 1
            """
        ).rows.map { try $0.decode(String.self, at: 0) }
    }

    static func of(_ pool: ConnectionPool) async throws -> [String: String] {
        var out: [String: String] = [:]
        for table in try await tables(pool) {
            out[table] = try await pool.query(
                """
                SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), 'empty') FROM read_models.\(identifier: table) t
                """
            ).scalar(String.self)
        }
        return out
    }

    /// Empties the read models and checkpoints and projects the whole log again in-process.
    static func rebuildFromZero(_ pool: ConnectionPool) async throws {
        let tables = try await tables(pool)
        try await pool.withConnection { conn in
            for table in tables { try await conn.execute("TRUNCATE read_models.\(identifier: table)") }
            try await conn.execute("DELETE FROM ledger.projections")
        }
        let engine = ProjectionEngine(
            store: EventStore(pool: pool), projectors: ShippedProjectors.all, owner: "rebuild", batchSize: 5_000)
        try await engine.prepare()
        try await engine.catchUpAll()
        try await engine.releaseLeases()
    }
}
