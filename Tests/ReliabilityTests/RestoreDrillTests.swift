import EventStore
import Foundation
import Marketplace
import PQ
import Projections
import TestSupport
import Testing

@testable import GigLedger

/// The restore drill: a base backup (`scripts/backup`), two commands, and a point-in-time
/// recovery (`scripts/restore --to`) to a moment between them. The restored cluster holds the log,
/// the command results and the read models exactly as they were at that moment, and goes on
/// from there like any primary.
@Suite("Backups and point-in-time recovery", .serialized)
struct RestoreDrillTests {
    @Test func restoringToAMomentBetweenTwoCommandsKeepsTheFirstAndNotTheSecond() async throws {
        let primary = try await ThrowawayCluster.start("pitr")
        defer { primary.destroy() }
        let backup = try await primary.runScript("backup", [])
        #expect(FileManager.default.fileExists(atPath: backup + "/PG_VERSION"), "no backup in \(backup)")

        let pool = ConnectionPool(config: primary.config, maxConnections: 4)
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "pitr")
        try await engine.prepare()
        let client = UUID().uuidString.lowercased()
        try await service.execute(try Commands.registerClient(client))
        let kept = UUID().uuidString.lowercased()
        let first = try await service.execute(try Commands.postGig(kept, by: client))
        try await engine.catchUpAll()
        // The moment to restore, on the server's clock (the one its commit records carry).
        let moment = try await pool.query(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"
        ).scalar(String.self)
        let lost = UUID().uuidString.lowercased()
        let second = try await service.execute(try Commands.postGig(lost, by: client))
        try await engine.catchUpAll()
        await pool.close()

        let restored = try await primary.restore(to: moment)
        defer { restored.destroy() }
        let rpool = ConnectionPool(config: restored.config, maxConnections: 4)
        let gigs = try await rpool.query(
            "SELECT stream_id FROM ledger.events WHERE event_type = 'GigPosted' ORDER BY global_position"
        ).rows.map { try $0.decode(String.self, at: 0) }
        #expect(gigs == ["gig-\(kept)"])
        let commands = try await rpool.query(
            "SELECT command_id FROM ledger.commands WHERE command_id = ANY(\([first.commandId, second.commandId])::uuid[])"
        ).rows.map { try $0.decode(UUID.self, at: 0) }
        #expect(commands == [first.commandId])
        let projectedGigs = try await rpool.query("SELECT gig_id FROM read_models.competition_gigs_v1").rows.map {
            try $0.decode(UUID.self, at: 0)
        }
        #expect(projectedGigs == [UUID(uuidString: kept)])
        // No checkpoint ahead of (or behind) its data, and every read model equals a rebuild.
        #expect(try await Tools.checkpointViolations(restored.config.target) == [])
        let rstore = EventStore(pool: rpool)
        let rengine = ProjectionEngine(store: rstore, projectors: ShippedProjectors.all, owner: "pitr-restored")
        for projector in ShippedProjectors.all {
            let report = try await rengine.verify(projector)
            #expect(report.identical, "\(projector.name) differs after the restore: \(report.differences)")
        }

        // It is a primary of its own: a new command appends after the restored log (positions are
        // never reused) and the projectors catch up by themselves.
        let head = try await rpool.query("SELECT max(global_position) FROM ledger.events").scalar(Int64.self)
        let next = try await MarketplaceService(store: rstore, masterKey: .forTests).execute(
            try Commands.postGig(UUID().uuidString.lowercased(), by: client))
        #expect(try #require(next.events.first?.position) > head)
        // The old daemon's leases came back with the restore (they expire 30 s after its last
        // batch); it is gone, so the operator clears them rather than wait (docs/OPERATIONS.md).
        try await rpool.query("UPDATE ledger.projections SET lease_owner = NULL, lease_until = NULL")
        try await rengine.catchUpAll()
        #expect(try await rengine.status().allSatisfy { $0.lagEvents == 0 && $0.state == "running" })
        #expect(try await Tools.checkpointViolations(restored.config.target) == [])
        await rpool.close()
    }

    /// A restore never brings a forgotten person back: a backup, a client registered, the moment,
    /// the client forgotten (its erasure list kept apart, as PRIVACY.md asks), then a restore to
    /// the moment — whose log has never heard of the erasure and whose key table still holds the
    /// key. `reapply-erasures` with the kept list forgets them again before anything reads.
    @Test func aRestoreToBeforeAnErasureBringsNoErasedSubjectBack() async throws {
        let primary = try await ThrowawayCluster.start("erasure")
        defer { primary.destroy() }
        _ = try await primary.runScript("backup", [])
        let pool = ConnectionPool(config: primary.config, maxConnections: 4)
        let service = MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests)
        let client = UUID().uuidString.lowercased()
        try await service.execute(try Commands.registerClient(client))
        let moment = try await pool.query(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"
        ).scalar(String.self)
        let subject = DataSubject.client(try #require(ClientID(uuidString: client)))
        #expect(try await service.vault.forget(subject, reason: "gdpr-art17", actor: .admin("dpo")).erased)
        let keptApart = try await service.vault.erasures()
        await pool.close()

        let restored = try await primary.restore(to: moment)
        defer { restored.destroy() }
        let rpool = ConnectionPool(config: restored.config, maxConnections: 4)
        #expect(
            try await rpool.query("SELECT count(*) FROM privacy.subject_keys WHERE subject = \(subject.description)")
                .scalar(Int64.self) == 1, "the restore brought the key back (as expected before reapplying)")
        let vault = PersonalDataVault(pool: rpool, masterKey: .forTests)
        let outcomes = try await vault.reapplyErasures(also: keptApart, actor: .admin("dpo"))
        #expect(outcomes.map(\.subject) == [subject] && outcomes.allSatisfy(\.erased))
        #expect(
            try await rpool.query("SELECT count(*) FROM privacy.subject_keys WHERE subject = \(subject.description)")
                .scalar(Int64.self) == 0)
        let state = String(
            decoding: try await MarketplaceService(store: EventStore(pool: rpool), masterKey: .forTests).fold(
                "client-\(client)"
            ).stateJSON, as: UTF8.self)
        #expect(state.contains(PersonalData.placeholder) && !state.contains("Acme"))
        // Reapplying again changes nothing.
        #expect(try await vault.reapplyErasures(also: keptApart, actor: .admin("dpo")).allSatisfy { !$0.erased })
        await rpool.close()
    }
}
