import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Simulation
import TestSupport
import Testing

@testable import Projections

/// A rebuild's fast path: every shipped projector folded inside PostgreSQL must give the tables
/// its incremental projector gives, row for row; recorded skips are honoured, and data a fold
/// cannot read sends that projector back to batches, which name the event.
@Suite("Rebuilds folded inside PostgreSQL")
struct LogFoldTests {
    static let tables = ShippedProjectors.all.flatMap(\.tables)

    /// Waits until `count` events are readable gap-safe (other suites' transactions on the same
    /// cluster can hold the horizon back for a moment).
    static func readable(_ count: Int, _ store: EventStore) async throws {
        let seen = try await eventually(timeout: .seconds(60)) { () async throws -> Bool? in
            try await store.readAll(after: .start, limit: 1_000_000).events.count >= count ? true : nil
        }
        #expect(seen == true, "\(count) events readable")
    }

    @Test func aFoldedRebuildEqualsTheIncrementalProjectorsRowForRow() async throws {
        // Larger than the replay suite's market, with skill, rate and availability changes on top.
        let config = SimulationConfig(
            freelancers: 60, clients: 12, weeks: 5, seed: 31, gigsPerClientPerWeek: 1.5, workers: 4)
        let (pool, simulated) = try await ReplayTests.market("foldequal", config: config)
        let store = EventStore(pool: pool)
        let engine = ProjectionEngine(
            store: store, projectors: ShippedProjectors.all, owner: "fold", batchSize: 300)
        // The simulated market ends with every gig settled: three left open, one of them hourly.
        let service = MarketplaceService(store: store, masterKey: .forTests)
        let client = try #require(simulated.first { $0.type == "ClientRegistered" }?.stream.rawValue)
            .dropFirst("client-".count)
        for (n, skills) in [["nlp", "python"], ["nlp", "python"], ["edge-ai"]].enumerated() {
            var fields: [String: JSONValue] = [
                "command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(String(client)),
                "title": .string("Open gig \(n)"), "skills": .array(skills.map { .string($0) }),
                "budgetMin": ["currency": "EUR", "minorUnits": 100_000],
                "budgetMax": ["currency": "EUR", "minorUnits": 300_000],
                "biddingClosesAt": .string(PGTimestamp.format(Date().addingTimeInterval(30 * 86_400))),
            ]
            if n == 2 { (fields["engagement"], fields["hours"], fields["experience"]) = ("hourly", 40, "expert") }
            _ = try await service.execute(try CommandInput(fields: fields).command())
        }
        try await Self.readable(simulated.count + 3, store)
        try await engine.catchUpAll()
        try await engine.releaseLeases()
        let events = try await store.readAll(after: .start, limit: 1_000_000).events
        #expect(events.count == simulated.count + 3)
        let live = try await ReplayTests.snapshot(pool, schema: "read_models", Self.tables)
        // A crashed rebuild's fold source (a day old) is dropped by the next rebuild; a fresh one
        // (another rebuild's, still running) is left alone.
        let stale = "gigledger_build_fold_\(Int64(Date().timeIntervalSince1970) - 86_400)_dead"
        let running = "gigledger_build_fold_\(Int64(Date().timeIntervalSince1970))_busy"
        for name in [stale, running] { try await pool.query("CREATE SCHEMA \(identifier: name)") }
        let reports = try await engine.rebuild(ShippedProjectors.all)
        let left = try await pool.query(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gigledger_build_fold_%' ORDER BY 1"
        ).rows.map { try $0.decode(String.self, at: 0) }
        #expect(left == [running])
        try await pool.query("DROP SCHEMA \(identifier: running)")
        for report in reports {
            #expect(report.eventsFolded == Int64(events.count), "\(report.projector) was folded whole")
            #expect(report.eventsApplied == Int64(events.count))
        }
        // The folds analysed their tables and kept autovacuum off only until the swap.
        let tableSettings = try await pool.query(
            """
            SELECT c.relname, c.reloptions IS NULL, s.last_analyze IS NOT NULL
            FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
            WHERE c.relnamespace = 'read_models'::regnamespace AND c.relname = ANY(\(Self.tables))
            ORDER BY 1
            """
        ).rows.map {
            (try $0.decode(String.self, at: 0), try $0.decode(Bool.self, at: 1), try $0.decode(Bool.self, at: 2))
        }
        #expect(tableSettings.map(\.0) == Self.tables.sorted())
        for (table, autovacuumOn, analysed) in tableSettings {
            #expect(autovacuumOn, "read_models.\(table) has autovacuum back after the swap")
            #expect(analysed, "read_models.\(table) was analysed by its fold")
        }
        let rebuilt = try await ReplayTests.snapshot(pool, schema: "read_models", Self.tables)
        ReplayTests.recordDifferences(rebuilt, live, Self.tables)
        let same = rebuilt == live
        #expect(same, "the folded tables equal the incremental ones (differences recorded above)")
        #expect(live.filter(\.value.isEmpty).keys.sorted() == [], "every table has rows to compare")
        // Verify builds in batches, through the incremental projectors: it agrees with the folds.
        for projector in ShippedProjectors.all {
            let report = try await engine.verify(projector)
            let identical = report.identical
            #expect(identical, "\(projector.name): \(report.differences.prefix(2))")
        }
        // --no-fold builds in batches and reaches the same tables.
        let batched = try await engine.rebuild(ShippedProjectors.all, folding: false)
        #expect(batched.allSatisfy { $0.eventsFolded == 0 })
        let batchedTables = try await ReplayTests.snapshot(pool, schema: "read_models", Self.tables)
        ReplayTests.recordDifferences(batchedTables, live, Self.tables)
    }

    @Test func aFoldHonoursRecordedSkipsAndLeavesUnreadableDataToTheBatches() async throws {
        let config = SimulationConfig(
            freelancers: 20, clients: 6, weeks: 2, seed: 7, gigsPerClientPerWeek: 1.5, workers: 4)
        let (pool, events) = try await ReplayTests.market("foldpoison", config: config)
        let store = EventStore(pool: pool)
        let engine = ProjectionEngine(
            store: store, projectors: ShippedProjectors.all, owner: "foldpoison", batchSize: 200)
        let metadata = EventMetadata(actor: "admin:ops", commandId: UUID())
        let freelancer = try #require(events.first { $0.type == "FreelancerRegistered" }?.stream)
        // Read by matching only; no version of it can read this one. Skipped on the record.
        let malformed = try await store.append(
            [NewEvent(type: "RateChanged", data: PGJSON(text: #"{"freelancerId": 42, "hourlyRate": "cheap"}"#))],
            to: freelancer, expecting: .any, metadata: metadata)
        let poison = try #require(malformed.events.first?.position)
        try await Self.readable(events.count + 1, store)
        try await engine.catchUpAll()
        #expect(try await engine.status().first { $0.name == "matching" }?.state == "failed")
        try await engine.skip("matching", version: MatchingProjector().version, position: poison, reason: "test")
        try await engine.reset("matching", version: MatchingProjector().version)
        try await engine.catchUpAll()
        try await engine.releaseLeases()
        #expect(try await engine.status().allSatisfy { $0.state == "running" && $0.lagEvents == 0 })
        let live = try await ReplayTests.snapshot(pool, schema: "read_models", Self.tables)
        // The poison's freelancerId does not cast: the part of the fold source holding it is copied
        // without the extracted ids, the folds cast them from the data, and all five still fold.
        let reports = try await engine.rebuild(ShippedProjectors.all)
        #expect(reports.allSatisfy { $0.eventsFolded == Int64(events.count + 1) }, "\(reports.map(\.eventsFolded))")
        ReplayTests.recordDifferences(
            try await ReplayTests.snapshot(pool, schema: "read_models", Self.tables), live, Self.tables)

        // Data the fold cannot cast: read by competition_gigs only, not skipped. The fold gives up,
        // the batches stop at the event, and the live tables are left alone.
        let gig = try #require(events.first { $0.type == "GigPosted" }?.stream)
        let unreadable = try await store.append(
            [NewEvent(type: "BidWithdrawn", data: PGJSON(text: #"{"gigId": "not-a-gig", "bidId": 7}"#))],
            to: gig, expecting: .any, metadata: EventMetadata(actor: "admin:ops", commandId: UUID()))
        try await Self.readable(events.count + 2, store)
        let failure = await #expect(throws: ProjectionFailure.self) {
            try await engine.rebuild([CompetitionByGigProjector()], restart: true)
        }
        #expect(failure?.position == unreadable.events.first?.position)
        #expect(failure?.type == "BidWithdrawn")
        // A schema version no fold reads (an event from the future): the batches decide.
        let future = try await store.append(
            [NewEvent(type: "AvailabilityChanged", schemaVersion: 9, data: PGJSON(text: #"{"hoursPerWeek": 10}"#))],
            to: freelancer, expecting: .any, metadata: EventMetadata(actor: "admin:ops", commandId: UUID()))
        try await Self.readable(events.count + 3, store)
        let refused = await #expect(throws: ProjectionFailure.self) {
            try await engine.rebuild([MatchingProjector()], restart: true)
        }
        #expect(refused?.position == future.events.first?.position)
        ReplayTests.recordDifferences(
            try await ReplayTests.snapshot(pool, schema: "read_models", Self.tables), live, Self.tables)
        _ = try await engine.abandonBuild(CompetitionByGigProjector(), .rebuild)
        _ = try await engine.abandonBuild(MatchingProjector(), .rebuild)
    }
}
