import EventStore
import Foundation
import PQ
import Projections
import Synchronization
import TestSupport
import Testing

/// Counts events per type into its own table; refuses events of type `Poison`.
struct CountingProjector: Projector {
    let name: String
    let version = 1
    var table: String { "counts_\(name)" }
    var tables: [String] { [table] }

    func prepare(on connection: Connection) async throws {
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(identifier: table) (event_type text PRIMARY KEY, n bigint NOT NULL)
            """)
    }

    func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        try await connection.execute(
            """
            INSERT INTO \(identifier: table) (event_type, n) VALUES (\(event.type), 1)
            ON CONFLICT (event_type) DO UPDATE SET n = \(identifier: table).n + 1
            """)
    }
}

@Suite("The projector engine")
struct ProjectionEngineTests {
    func append(_ store: EventStore, _ types: [String]) async throws {
        for type in types {
            try await store.append(
                [NewEvent(type: type, data: PGJSON(text: "{}"))],
                to: try StreamName(validating: "thing-\(UUID().uuidString.lowercased())"),
                expecting: .noStream, metadata: EventMetadata(actor: "system", commandId: UUID()))
        }
    }

    /// Waits (boundedly) until `count` events are readable: other suites' open transactions may
    /// briefly hold gap-safe readers back, which would split batches differently.
    func waitVisible(_ store: EventStore, _ count: Int) async throws {
        let visible = try await eventually {
            try await store.readAll(after: .start, limit: 10_000).events.count >= count ? true : nil
        }
        #expect(visible == true)
    }

    func counts(_ pool: ConnectionPool, _ projector: CountingProjector) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try await pool.query("SELECT event_type, n FROM read_models.\(identifier: projector.table)").rows {
            out[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return out
    }

    @Test func batchesApplyOnceAndResumeFromTheCheckpoint() async throws {
        let pool = try await TestDatabase.fresh("projengine")
        let store = EventStore(pool: pool)
        let projector = CountingProjector(name: "once")
        try await append(store, Array(repeating: "A", count: 7) + Array(repeating: "B", count: 5))
        try await waitVisible(store, 12)
        // A small batch size: several transactions; a second engine (a restart) resumes.
        let first = ProjectionEngine(store: store, projectors: [projector], owner: "one", batchSize: 5)
        try await first.prepare()
        #expect(try await first.stepAll() == ["once": .applied(5)])
        let restarted = ProjectionEngine(store: store, projectors: [projector], owner: "one", batchSize: 5)
        // (Bounded polling: other suites' open transactions may briefly hold gap-safe readers back.)
        _ = try await eventually { () async throws -> Bool? in
            try await restarted.catchUpAll()
            return try await counts(pool, projector).values.reduce(0, +) == 12 ? true : nil
        }
        #expect(try await counts(pool, projector) == ["A": 7, "B": 5])
        #expect(try await restarted.stepAll() == ["once": .caughtUp])
        let status = try #require(try await restarted.status().first { $0.name == "once" })
        #expect(status.checkpoint == status.head)
        #expect(status.lagEvents == 0)
        #expect(status.eventsApplied == 12)
        #expect(status.state == "running")
    }

    @Test func aPoisonEventStopsOnlyItsProjectorAndNamesTheEvent() async throws {
        let pool = try await TestDatabase.fresh("projpoison")
        let store = EventStore(pool: pool)
        let healthy = CountingProjector(name: "healthy")
        let poisoned = HookedCounting.poisonSensitive(name: "poisoned")
        try await append(store, ["A", "Poison", "B"])
        try await waitVisible(store, 3)
        let engine = ProjectionEngine(store: store, projectors: [poisoned, healthy], owner: "one")
        try await engine.prepare()
        _ = try await eventually { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await counts(pool, healthy).values.reduce(0, +) == 3 ? true : nil
        }
        #expect(try await counts(pool, healthy) == ["A": 1, "Poison": 1, "B": 1])
        let status = try await engine.status()
        let failed = try #require(status.first { $0.name == "poisoned" })
        #expect(failed.state == "failed")
        #expect(failed.errorType == "Poison")
        #expect(failed.errorStream?.hasPrefix("thing-") == true)
        #expect(failed.errorPosition != nil)
        #expect(failed.checkpoint < (failed.errorPosition ?? 0))
        // Nothing of the failed batch was applied.
        #expect(try await counts(pool, poisoned.inner).isEmpty)
        #expect(try await engine.stepAll() == ["poisoned": .failed, "healthy": .caughtUp])
        #expect(status.first { $0.name == "healthy" }?.state == "running")

        // The documented resolution for an event no version should handle: skip it on the record.
        let position = try #require(failed.errorPosition)
        await #expect(throws: ProjectionAdminError.self) {
            try await engine.skip("poisoned", version: 1, position: position, reason: "  ")
        }
        try await engine.skip("poisoned", version: 1, position: position, reason: "a test event written by hand")
        try await engine.catchUpAll()
        #expect(try await counts(pool, poisoned.inner) == ["A": 1, "B": 1])
        #expect(try await engine.status().first { $0.name == "poisoned" }?.state == "running")
        // The decision is on the record, cannot be edited, and rebuilds honour it.
        let reason = try await pool.query("SELECT reason FROM ledger.projection_skips WHERE name = 'poisoned'").scalar(
            String.self)
        #expect(reason == "a test event written by hand")
        await #expect(throws: (any Error).self) { try await pool.query("DELETE FROM ledger.projection_skips") }
        #expect(try await engine.verify(poisoned).identical)
    }

    @Test func aLostConnectionRollsTheBatchBackWithoutFailingTheProjector() async throws {
        let pool = try await TestDatabase.fresh("projfault")
        let store = EventStore(pool: pool)
        try await append(store, ["A", "B"])
        try await waitVisible(store, 2)
        let flaky = HookedCounting.sessionKilledOnce(name: "flaky")
        let engine = ProjectionEngine(store: store, projectors: [flaky], owner: "one")
        try await engine.prepare()
        await #expect(throws: PQError.self) { try await engine.catchUpAll() }
        #expect(try await engine.status().first?.state != "failed")
        #expect(try await counts(pool, flaky.inner).isEmpty, "the broken batch left nothing behind")
        #expect(try await engine.catchUpAll() == ["flaky": 2])
        #expect(try await counts(pool, flaky.inner) == ["A": 1, "B": 1])
    }

    @Test func theDaemonPassesAHeldBackEventWithoutAnotherNotification() async throws {
        let pool = try await TestDatabase.fresh("projheld")
        let store = EventStore(pool: pool)
        let counting = CountingProjector(name: "held")
        let engine = ProjectionEngine(store: store, projectors: [counting], owner: "daemon")
        // Its table exists before the first count below (the daemon would create it too, racing it).
        try await engine.prepare()
        let daemon = Task { try await engine.follow(fallbackPoll: .seconds(120)) }
        defer { daemon.cancel() }
        // An older transaction with an xid stays open while an event is appended and announced:
        // the gap-safe read cannot pass it yet.
        let holder = try await Connection.connect(pool.config)
        try await holder.execute("BEGIN")
        _ = try await holder.query("SELECT pg_current_xact_id()")
        try await append(store, ["Held"])
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await counts(pool, counting).isEmpty, "held back while the older transaction is open")
        try await holder.execute("COMMIT")
        await holder.close()
        // No further append, so no further NOTIFY: the daemon must look again by itself, well
        // before its two-minute fallback poll.
        let applied = try await eventually(timeout: .seconds(60)) { try await counts(pool, counting)["Held"] }
        #expect(applied == 1)
    }

    @Test func aSecondInstanceWaitsForTheLease() async throws {
        let pool = try await TestDatabase.fresh("projlease")
        let store = EventStore(pool: pool)
        let projector = CountingProjector(name: "leased")
        try await append(store, ["A", "A"])
        try await waitVisible(store, 2)
        let one = ProjectionEngine(store: store, projectors: [projector], owner: "daemon-1", batchSize: 1)
        let two = ProjectionEngine(store: store, projectors: [projector], owner: "daemon-2", batchSize: 1)
        try await one.prepare()
        _ = try await eventually { try await one.stepAll() == ["leased": .applied(1)] ? true : nil }
        #expect(try await two.stepAll() == ["leased": .leasedElsewhere])
        #expect(try await two.leasedElsewhere() == ["leased": "daemon-1"])
        #expect(try await counts(pool, projector) == ["A": 1])
        // When the first instance's run ends it gives its lease up: the second takes over at once.
        try await one.releaseLeases()
        #expect(try await two.stepAll() == ["leased": .applied(1)])
        #expect(try await counts(pool, projector) == ["A": 2])
    }
}

/// A CountingProjector with a hook run before each event, to make it fail or break things.
struct HookedCounting: Projector {
    let inner: CountingProjector
    let hook: @Sendable (RecordedEvent, Connection) async throws -> Void
    var name: String { inner.name }
    var version: Int { inner.version }
    var tables: [String] { inner.tables }
    func prepare(on connection: Connection) async throws { try await inner.prepare(on: connection) }
    func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        try await hook(event, connection)
        try await inner.apply(event, on: connection)
    }

    struct PoisonError: Error, CustomStringConvertible { var description: String { "no handler for Poison" } }

    /// Stops at events of type `Poison`.
    static func poisonSensitive(name: String) -> HookedCounting {
        HookedCounting(inner: CountingProjector(name: name)) { event, _ in
            if event.type == "Poison" { throw PoisonError() }
        }
    }

    /// Has its session killed under it the first time it applies an event.
    static func sessionKilledOnce(name: String) -> HookedCounting {
        let killed = Flag()
        return HookedCounting(inner: CountingProjector(name: name)) { _, connection in
            if killed.value.withLock({ done in
                defer { done = true }
                return !done
            }) {
                try await connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            }
        }
    }
    final class Flag: Sendable { let value = Mutex(false) }
}
