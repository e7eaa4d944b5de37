import EventStore
import Foundation
import PQ
import Projections
import TestSupport
import Testing

@testable import GigLedger

/// Readers on a hot standby (`scripts/db-up --replica`, `gigctl --read-url`), with two real
/// clusters: the primary and a streaming replica of it, in a folder of their own.
@Suite("Readers on a hot standby", .serialized)
struct StandbyTests {
    /// Where writes would go if a read command used them: nothing listens there, so a read that
    /// succeeds was served by the standby.
    static let nowhere = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"

    /// Whether every projector's checkpoint on `reads` has passed the event at `position` (in
    /// gap-safe order): false while that event has not reached the standby.
    static func projected(_ position: Int64, on reads: ConnectionPool) async throws -> Bool {
        try await reads.query(
            """
            SELECT coalesce(bool_and((p.transaction_id, p.global_position) >= (e.transaction_id, e.global_position)), false)
            FROM ledger.projections p JOIN ledger.events e ON e.global_position = \(position)
            """
        ).scalar(Bool.self)
    }

    /// `gigctl stats competition --gig` read from the standby only.
    static func competition(_ gig: String, standby: ThrowawayCluster) async throws -> ChildProcess.Result {
        try await ChildProcess.run(
            try Tools.gigctl(),
            [
                "stats", "competition", "--gig", gig, "--json", "--read-url", standby.config.target,
                "--database-url", nowhere,
            ])
    }

    /// The `data` object of a read-model result printed by `--json`, re-encoded with sorted keys.
    static func data(_ stdout: String) throws -> Data {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
        return try JSONSerialization.data(withJSONObject: object?["data"] ?? NSNull(), options: [.sortedKeys])
    }

    /// One pair of clusters for all of it (each pair costs seconds to make).
    @Test func aProjectedCommandBecomesReadableThereARestartLosesNothingAndGapSafetyHolds() async throws {
        let primary = try await ThrowawayCluster.start("standby")
        defer { primary.destroy() }
        let standby = try await primary.startStandby()
        defer { standby.destroy() }
        let pool = ConnectionPool(config: primary.config, maxConnections: 4)
        let reads = ConnectionPool(config: standby.config, maxConnections: 2)
        let store = EventStore(pool: pool)
        let standbyStore = EventStore(pool: reads)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "standby-test")
        try await engine.prepare()
        #expect(try await reads.withConnection { try await $0.isInRecovery() })

        // A command on the primary, projected there, is readable on the standby once the
        // standby's copy of the checkpoints has passed it.
        let client = UUID().uuidString.lowercased()
        let gig = UUID().uuidString.lowercased()
        try await service.execute(try Commands.registerClient(client))
        let posted = try await service.execute(try Commands.postGig(gig, by: client))
        let position = try #require(posted.events.last?.position)
        try await engine.catchUpAll()
        try await eventually("the standby's checkpoints pass position \(position)") {
            try await Self.projected(position, on: reads)
        }
        let before = try await Self.competition(gig, standby: standby)
        #expect(before.exitCode == 0, "\(before.stderr)")
        #expect(before.stdout.contains("\"status\" : \"open\""), "\(before.stdout)")
        #expect(
            try await reads.query("SELECT count(*) FROM ledger.commands WHERE command_id = \(posted.commandId)").scalar(
                Int.self) == 1)
        #expect(try await Tools.checkpointViolations(standby.config.target) == [])
        // It refuses writes: they belong on the primary.
        await #expect(throws: PQError.self) {
            try await reads.withConnection { try await $0.execute("CREATE TABLE refused (x int)") }
        }

        // The standby stops hard (crash recovery at its next start); meanwhile the primary goes on.
        try await standby.stopServer(mode: "immediate")
        let later = UUID().uuidString.lowercased()
        let posted2 = try await service.execute(try Commands.postGig(later, by: client))
        let position2 = try #require(posted2.events.last?.position)
        try await engine.catchUpAll()
        try await standby.startServer()

        // It reads what it read before, then catches up what was written while it was down (the
        // replication slot kept that WAL on the primary).
        let after = try await Self.competition(gig, standby: standby)
        #expect(after.exitCode == 0, "\(after.stderr)")
        // The same gig (`data`); the checkpoints it reflects may have moved on meanwhile.
        #expect(try Self.data(after.stdout) == (try Self.data(before.stdout)))
        try await eventually("the restarted standby's checkpoints pass position \(position2)") {
            try await Self.projected(position2, on: reads)
        }
        let caughtUp = try await Self.competition(later, standby: standby)
        #expect(caughtUp.exitCode == 0, "\(caughtUp.stderr)")
        let counts = try await reads.query(
            "SELECT (SELECT count(*) FROM ledger.events), (SELECT count(*) FROM read_models.competition_gigs_v1)"
        ).rows.first
        #expect(try counts?.decode(Int.self, at: 0) == 3)
        #expect(try counts?.decode(Int.self, at: 1) == 2)
        #expect(try await Tools.checkpointViolations(standby.config.target) == [])

        // Gap-safety holds on the standby: its snapshots count the primary's open transactions as
        // running, so a reader there does not pass an event that an older transaction still open
        // on the primary may commit below. An append left open on the primary, then a later one
        // committed:
        let holder = try await Connection.connect(primary.config)
        try await holder.execute("BEGIN")
        let heldPlan = try await service.decide(try Commands.postGig(UUID().uuidString.lowercased(), by: client))
        _ = try await store.append(
            AppendRequest(
                metadata: EventMetadata(actor: "client:\(client)", commandId: UUID()), streams: heldPlan.streams),
            within: holder)
        let committed = try await service.execute(try Commands.postGig(UUID().uuidString.lowercased(), by: client))
        let laterPosition = try #require(committed.events.last?.position)
        try await eventually("the later event is stored on the standby") {
            try await reads.query("SELECT count(*) FROM ledger.events WHERE global_position = \(laterPosition)").scalar(
                Int.self) == 1
        }
        let whileOpen = try await standbyStore.readAll(after: .start, limit: 100).events
        #expect(whileOpen.count == 3, "read past an open transaction: \(whileOpen.map(\.position))")
        #expect(!whileOpen.contains { $0.position == laterPosition })

        // A live follower of the log on the standby (it cannot LISTEN there, so it polls; the
        // 120 s fallback would never fire within the watchdog's minute).
        let follower = Task {
            var seen = 0
            for try await batch in standbyStore.follow(mode: .live, fallbackPoll: .seconds(120)) {
                seen += batch.events.count
                if seen >= 5 { break }
            }
            return seen
        }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            follower.cancel()
        }

        try await holder.execute("COMMIT")
        await holder.close()
        #expect(try await follower.value == 5)
        watchdog.cancel()
        try await eventually("both gigs are readable gap-safe on the standby") {
            try await standbyStore.readAll(after: .start, limit: 100).events.count == 5
        }
        let all = try await standbyStore.readAll(after: .start, limit: 100).events
        // The held transaction is older: its gig comes first in gap-safe order.
        #expect(all.last?.position == laterPosition)
        await reads.close()
        await pool.close()
    }
}
