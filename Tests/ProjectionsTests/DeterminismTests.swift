import EventStore
import Foundation
import GigLedger
import PQ
import Projections
import Simulation
import TestSupport
import Testing

@Suite("Read models are deterministic functions of the log")
struct DeterminismTests {
    static let config = SimulationConfig(
        freelancers: 40, clients: 10, weeks: 3, seed: 11, gigsPerClientPerWeek: 1.5, workers: 4,
        endingInWeekOf: Date(timeIntervalSince1970: 1_768_176_000))  // a fixed week: the same log on any day

    /// A fingerprint of every read-model table's rows.
    func fingerprint(_ pool: ConnectionPool) async throws -> [String: String] {
        var out: [String: String] = [:]
        let tables = try await pool.query(
            """
            SELECT table_name FROM information_schema.tables WHERE table_schema = 'read_models' AND table_type = 'BASE TABLE' ORDER BY 1
            """
        ).rows.map { try $0.decode(String.self, at: 0) }
        for table in tables {
            out[table] = try await pool.query(
                """
                SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), 'empty') FROM read_models.\(identifier: table) t
                """
            ).scalar(String.self)
        }
        return out
    }

    func market(_ label: String) async throws -> (ConnectionPool, EventStore) {
        let pool = try await TestDatabase.fresh(label, maxConnections: 6)
        let store = EventStore(pool: pool)
        let summary = try await MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests), config: Self.config
        ).run()
        #expect(summary.unexpectedRejections == 0)
        // Wait until the whole log is readable (other suites' transactions may hold readers back).
        _ = try await eventually {
            try await store.readAll(after: .start, limit: 100_000).events.count >= summary.events ? true : nil
        }
        return (pool, store)
    }

    @Test func aKilledAndResumedRunAndARebuildFromZeroGiveTheSameTables() async throws {
        let (pool, store) = try await market("determinism")
        // Uninterrupted, large batches.
        let whole = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "whole", batchSize: 10_000)
        try await whole.prepare()
        try await whole.catchUpAll()
        try await whole.releaseLeases()
        let uninterrupted = try await fingerprint(pool)
        #expect(uninterrupted.count >= 8)

        // From zero again, in small batches, "killed" after a few batches (an engine simply
        // abandoned between two transactions) and resumed by another instance once its lease expired.
        let tables = uninterrupted.keys.sorted()
        try await pool.withConnection { conn in
            for table in tables { try await conn.execute("TRUNCATE read_models.\(identifier: table)") }
            try await conn.execute("DELETE FROM ledger.projections")
        }
        let killed = ProjectionEngine(
            store: store, projectors: ShippedProjectors.all, owner: "killed", batchSize: 17, leaseDuration: .seconds(1))
        try await killed.prepare()
        for _ in 0..<3 { try await killed.stepAll() }
        let partial = try await fingerprint(pool)
        #expect(partial != uninterrupted)
        try await Task.sleep(for: .milliseconds(1_100))
        let resumed = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "resumed", batchSize: 17)
        try await resumed.catchUpAll()
        #expect(try await fingerprint(pool) == uninterrupted)
        let status = try await resumed.status()
        #expect(status.allSatisfy { $0.lagEvents == 0 && $0.state == "running" })
    }
}
