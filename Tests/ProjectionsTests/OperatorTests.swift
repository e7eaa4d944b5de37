import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Simulation
import Synchronization
import TestSupport
import Testing

@testable import Projections

/// Rebuild, verify, replay, export / import and time travel on a small simulated market.
@Suite("Operating the projections")
struct OperatorTests {
    static let config = SimulationConfig(
        freelancers: 30, clients: 8, weeks: 3, seed: 5, gigsPerClientPerWeek: 1.5, workers: 4)

    /// A migrated database with a simulated market, its projections caught up.
    func market(_ label: String) async throws -> (ConnectionPool, EventStore, ProjectionEngine, Int) {
        let pool = try await TestDatabase.fresh(label, maxConnections: 6)
        let store = EventStore(pool: pool)
        let summary = try await MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests), config: Self.config
        ).run()
        #expect(summary.unexpectedRejections == 0)
        _ = try await eventually {
            try await store.readAll(after: .start, limit: 100_000).events.count >= summary.events ? true : nil
        }
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: label, batchSize: 200)
        try await engine.prepare()
        try await engine.catchUpAll()
        try await engine.releaseLeases()
        return (pool, store, engine, summary.events)
    }

    func fingerprint(_ pool: ConnectionPool) async throws -> [String: String] {
        var out: [String: String] = [:]
        for projector in ShippedProjectors.all {
            for table in projector.tables {
                out[table] = try await pool.query(
                    """
                    SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), 'empty') FROM read_models.\(identifier: table) t
                    """
                ).scalar(String.self)
            }
        }
        return out
    }

    @Test func rebuildSwapsWhileAReaderNeverSeesAnEmptyOrPartialModel() async throws {
        let (pool, store, _, _) = try await market("oprebuild")
        let expected = try await pool.query(
            """
            SELECT count(*)::int8, sum(bids_total)::int8 FROM read_models.competition_gigs_v1
            """
        ).rows.map { [try $0.decode(Int64.self, at: 0), try $0.decode(Int64.self, at: 1)] }.first
        let before = try await fingerprint(pool)
        let stop = Atomic<Bool>(false)
        let reader = Task { () -> (reads: Int, wrong: [String]) in
            var reads = 0
            var wrong: [String] = []
            while !stop.load(ordering: .relaxed) {
                do {
                    let row = try await pool.query(
                        """
                        SELECT count(*)::int8, sum(bids_total)::int8,
                               (SELECT count(*)::int8 FROM read_models.competition_skill_weeks_v1) AS weeks
                        FROM read_models.competition_gigs_v1
                        """
                    ).first
                    let got = [try row?.decode(Int64.self, at: 0) ?? -1, try row?.decode(Int64.self, at: 1) ?? -1]
                    if got != expected { wrong.append("read \(got), expected \(expected ?? [])") }
                    if try row?.decode(Int64.self, at: 2) ?? 0 == 0 { wrong.append("the skill-weeks view was empty") }
                } catch {
                    wrong.append("query failed: \(error)")
                }
                reads += 1
            }
            return (reads, wrong)
        }
        // Small batches so the build takes a while and the reader runs throughout.
        let rebuilding = ProjectionEngine(
            store: store, projectors: ShippedProjectors.all, owner: "rebuilder", batchSize: 25)
        var reports: [RebuildReport] = []
        for projector in ShippedProjectors.all { reports.append(try await rebuilding.rebuild(projector)) }
        stop.store(true, ordering: .relaxed)
        let outcome = await reader.value
        #expect(outcome.reads > 20, "the reader ran during the rebuild")
        #expect(outcome.wrong.isEmpty, "\(outcome.wrong.prefix(3))")
        #expect(try await fingerprint(pool) == before, "the rebuilt tables equal the incrementally built ones")
        #expect(reports.allSatisfy { !$0.resumed && $0.eventsApplied > 0 })
        // Readers keep their grants on the swapped-in tables; no build is left behind.
        let granted = try await pool.query(
            "SELECT has_table_privilege('gigledger_reader', 'read_models.competition_gigs_v1', 'SELECT')"
        ).scalar(Bool.self)
        #expect(granted)
        #expect(try await rebuilding.builds().isEmpty)
        let leftover = try await pool.query(
            "SELECT count(*)::int8 FROM pg_namespace WHERE nspname LIKE 'gigledger_build_%'"
        ).scalar(Int64.self)
        #expect(leftover == 0)
    }

    @Test func anInterruptedRebuildResumesWhereItStopped() async throws {
        let (pool, store, _, events) = try await market("opresume")
        let before = try await fingerprint(pool)
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "first", batchSize: 100)
        let projector = CompetitionByGigProjector()
        // A rebuild that "crashed" after three batches: its shadow tables and checkpoint remain.
        let start = try await engine.openBuild(projector, .rebuild, restart: false)
        #expect(start.1 == 0 && !start.2)
        for _ in 0..<3 {
            _ = try await pool.withTransaction {
                try await engine.buildStep([projector], .rebuild, through: nil, on: $0)
            }
        }
        let pending = try await engine.builds()
        #expect(pending.count == 1 && pending.first?.eventsApplied == 300)
        // Rebuilding all of them together: one reads on from its own checkpoint, the others from 0.
        let reports = try await ProjectionEngine(
            store: store, projectors: ShippedProjectors.all, owner: "second", batchSize: 100
        )
        .rebuild(ShippedProjectors.all)
        #expect(reports.map(\.projector) == ShippedProjectors.all.map(\.name))
        #expect(reports.map(\.resumed) == [true] + Array(repeating: false, count: ShippedProjectors.all.count - 1))
        #expect(reports.allSatisfy { $0.eventsApplied == Int64(events) })
        #expect(try await fingerprint(pool) == before)
        // Abandoning drops a build's schema and row.
        _ = try await engine.openBuild(projector, .rebuild, restart: false)
        #expect(try await engine.abandonBuild(projector, .rebuild))
        #expect(try await engine.builds().isEmpty)
    }

    @Test func verifyPassesOnUntouchedTablesAndCatchesATamperedRow() async throws {
        let (pool, _, engine, _) = try await market("opverify")
        for projector in ShippedProjectors.all {
            let report = try await engine.verify(projector)
            #expect(report.identical, "\(projector.name): \(report.differences.prefix(2))")
            #expect(report.rows.values.reduce(0, +) > 0)
        }
        let gig = try await pool.query(
            "SELECT gig_id::text FROM read_models.competition_gigs_v1 ORDER BY gig_id LIMIT 1"
        ).scalar(String.self)
        try await pool.query(
            "UPDATE read_models.competition_gigs_v1 SET bids_total = bids_total + 7 WHERE gig_id = \(gig)::uuid")
        let report = try await engine.verify(CompetitionByGigProjector())
        #expect(!report.identical)
        #expect(report.differenceCount == 2)
        #expect(Set(report.differences.map(\.onlyIn)) == ["live", "rebuilt"])
        #expect(report.differences.allSatisfy { $0.table == "competition_gigs_v1" && $0.row.contains(gig) })
        // Replaying the gig's stream shows the repair in a dry run, then makes it.
        let dry = try await engine.replay(CompetitionByGigProjector(), stream: "gig-\(gig)", dryRun: true)
        #expect(dry.differenceCount == 2 && dry.eventsReplayed > 0)
        #expect(try await engine.verify(CompetitionByGigProjector()).differenceCount == 2, "a dry run changes nothing")
        let real = try await engine.replay(CompetitionByGigProjector(), stream: "gig-\(gig)", dryRun: false)
        #expect(real.differenceCount == 2)
        #expect(try await engine.verify(CompetitionByGigProjector()).identical)
        // Replaying again changes nothing: projectors are idempotent under replay.
        #expect(
            try await engine.replay(CompetitionByGigProjector(), stream: "gig-\(gig)", dryRun: false).differenceCount
                == 0)
        await #expect(throws: ProjectionAdminError.self) {
            try await engine.replay(CompetitionByGigProjector(), from: 10_000_000, dryRun: true)
        }
    }

    @Test func exportThenImportIntoAFreshDatabaseGivesIdenticalReadModels() async throws {
        let (pool, store, _, events) = try await market("opexport")
        let buffer = Mutex(Data())
        let lines = try await store.export { bytes in buffer.withLock { $0.append(contentsOf: bytes) } }
        #expect(lines == events)
        let exported = buffer.withLock { $0 }
        let first = try JSONSerialization.jsonObject(with: exported.prefix(while: { $0 != 0x0A })) as? [String: Any]
        #expect(first?["position"] as? Int == 1)
        for key in ["stream", "version", "type", "schemaVersion", "data", "metadata", "occurredAt", "recordedAt"] {
            #expect(first?[key] != nil, "\(key)")
        }

        let target = try await TestDatabase.fresh("opimport", maxConnections: 4)
        let targetStore = EventStore(pool: target)
        let report = try await targetStore.importLog { writer in try writer.write(exported) }
        #expect(report.events == Int64(events))
        // Same log, same streams, same command results.
        for sql: SQL in [
            "SELECT md5(string_agg(concat_ws('|', global_position, stream_id, stream_version, event_type, schema_version, data, metadata, occurred_at, recorded_at), ',' ORDER BY global_position)) FROM ledger.events",
            "SELECT md5(string_agg(concat_ws('|', stream_id, version), ',' ORDER BY stream_id)) FROM ledger.streams",
            "SELECT md5(string_agg(result::text, ',' ORDER BY command_id)) FROM ledger.commands",
        ] {
            #expect(try await pool.query(sql).scalar(String.self) == (try await target.query(sql).scalar(String.self)))
        }
        let engine = ProjectionEngine(
            store: targetStore, projectors: ShippedProjectors.all, owner: "imported", batchSize: 500)
        try await engine.prepare()
        _ = try await eventually { try await engine.catchUpAll().values.reduce(0, +) > 0 ? true : nil }
        try await engine.catchUpAll()
        #expect(try await fingerprint(target) == (try await fingerprint(pool)))
        for projector in ShippedProjectors.all { #expect(try await engine.verify(projector).identical) }
        // New appends continue after the imported head; a non-empty log is refused.
        #expect(
            try await target.query("SELECT nextval('ledger.events_position_seq')").scalar(Int64.self) == Int64(events)
                + 1)
        await #expect(throws: EventStoreError.self) {
            try await targetStore.importLog { writer in try writer.write(exported) }
        }
    }
}
