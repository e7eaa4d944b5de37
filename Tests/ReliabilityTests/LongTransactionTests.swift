import EventStore
import Foundation
import Marketplace
import PQ
import Projections
import TestSupport
import Testing

@testable import GigLedger

/// An append left open (an idle transaction holding a transaction id) holds gap-safe readers
/// back: projectors stop before it, the status names its backend pid, and when it commits
/// nothing is lost — the events written meanwhile and its own are all projected.
///
/// On a cluster of its own: an open transaction holds back readers of every database on a server.
/// `GIGLEDGER_CHAOS_HOLD_SECONDS` (default 0) keeps it open that long while writers go on.
@Suite("A long-open transaction", .serialized)
struct LongTransactionTests {
    static let holdSeconds = ProcessInfo.processInfo.environment["GIGLEDGER_CHAOS_HOLD_SECONDS"].flatMap(Int.init) ?? 0

    @Test func readersWaitForItStatusNamesItsPidAndNothingIsLostWhenItEnds() async throws {
        let cluster = try await ThrowawayCluster.start("longtx")
        defer { cluster.destroy() }
        let pool = ConnectionPool(config: cluster.config, maxConnections: 6)
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        let client = UUID().uuidString.lowercased()
        try await service.execute(try Commands.registerClient(client))
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "longtx")
        try await engine.prepare()
        try await engine.catchUpAll()

        // The long transaction: a gig appended, then left open (idle in transaction).
        let holder = try await Connection.connect(cluster.config)
        try await holder.execute("BEGIN")
        let held = try Commands.postGig(UUID().uuidString.lowercased(), by: client)
        let heldPlan = try await service.decide(held)
        _ = try await store.append(
            AppendRequest(
                metadata: EventMetadata(actor: "client:\(client)", commandId: UUID()), streams: heldPlan.streams),
            within: holder)
        let holderPid = try await holder.query("SELECT pg_backend_pid()").scalar(Int32.self)

        // Writers go on meanwhile; their events commit, at higher positions.
        var written = 0
        let until = ContinuousClock.now.advanced(by: .seconds(Self.holdSeconds))
        repeat {
            for _ in 0..<5 {
                try await service.execute(try Commands.postGig(UUID().uuidString.lowercased(), by: client))
                written += 1
            }
            try await engine.catchUpAll()
            try await Task.sleep(for: .milliseconds(Self.holdSeconds > 0 ? 500 : 0))
        } while ContinuousClock.now < until
        // Readers are held back: not one of those gigs is projected (they may commit below it).
        try await engine.catchUpAll()
        let projectedWhileOpen = try await pool.query("SELECT count(*) FROM read_models.competition_gigs_v1").scalar(
            Int.self)
        #expect(projectedWhileOpen == 0)
        let status = try await engine.status()
        #expect(status.allSatisfy { $0.lagEvents >= Int64(written) }, "status shows the lag")

        // The status names the transaction and its backend pid: the library and gigctl.
        let log = try await store.status()
        #expect(log.oldestOpenTransaction?.pid == holderPid)
        let gigctl = try Tools.gigctl()
        let report = try await ChildProcess.run(gigctl, ["status", "--json", "--database-url", cluster.config.target])
        #expect(report.exitCode == 0, "\(report.stderr)")
        #expect(
            Self.oldestOpenTransactionPids(in: report.stdout).contains(Int(holderPid)),
            "gigctl status --json: \(report.stdout)")
        let text = try await ChildProcess.run(gigctl, ["status", "--database-url", cluster.config.target])
        #expect(text.stdout.contains(String(holderPid)))
        // `gigctl projections status --json` names it too once it reports the oldest open
        // transaction (expected: an object with a `pid` under a key containing "oldest").
        let projections = try await ChildProcess.run(
            gigctl, ["projections", "status", "--json", "--database-url", cluster.config.target])
        #expect(projections.exitCode == 0, "\(projections.stderr)")
        if projections.stdout.contains("oldest") {
            #expect(
                Self.oldestOpenTransactionPids(in: projections.stdout).contains(Int(holderPid)),
                "gigctl projections status --json: \(projections.stdout)")
        }

        // It ends: everything, its own gig included, is projected; nothing lost.
        try await holder.execute("COMMIT")
        await holder.close()
        try await engine.catchUpAll()
        let gigs = try await pool.query("SELECT count(*) FROM read_models.competition_gigs_v1").scalar(Int.self)
        #expect(gigs == written + 1)
        #expect(try await engine.status().allSatisfy { $0.lagEvents == 0 && $0.state == "running" })
        #expect(try await Tools.checkpointViolations(cluster.config.target) == [])
        #expect(try await store.status().oldestOpenTransaction == nil)
        await pool.close()
        Figures.record(
            "long-transaction",
            [
                "heldSeconds": Self.holdSeconds, "eventsWrittenWhileHeld": written,
                "projectedWhileHeld": projectedWhileOpen, "projectedAfter": gigs, "lost": written + 1 - gigs,
            ])
    }

    /// Every `pid` found under a key containing "oldest" (any depth) of a JSON document.
    static func oldestOpenTransactionPids(in json: String) -> [Int] {
        guard let data = json.data(using: .utf8), let value = try? JSONSerialization.jsonObject(with: data) else {
            return []
        }
        var pids: [Int] = []
        func walk(_ value: Any, underOldest: Bool) {
            if let object = value as? [String: Any] {
                for (key, child) in object {
                    if underOldest, key.lowercased().contains("pid"), let pid = child as? Int { pids.append(pid) }
                    walk(child, underOldest: underOldest || key.lowercased().contains("oldest"))
                }
            } else if let array = value as? [Any] {
                for element in array { walk(element, underOldest: underOldest) }
            }
        }
        walk(value, underOldest: false)
        return pids
    }
}
