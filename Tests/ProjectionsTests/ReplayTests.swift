import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections
import Simulation
import TestSupport
import Testing

/// What `gigctl replay` relies on: re-applying events a projector has already applied changes
/// none of its tables, and a batch gives the same tables as its events applied one by one.
@Suite("Projectors under replay")
struct ReplayTests {
    static let config = SimulationConfig(
        freelancers: 40, clients: 10, weeks: 3, seed: 23, gigsPerClientPerWeek: 1.5, workers: 4)

    /// A simulated market plus skill, rate and availability changes (which the simulator does
    /// not make), with every projector caught up; returns the pool and the whole log.
    /// One market for every test of the suite (each test writes only its projector's tables, or
    /// a schema of its own).
    static let shared = Task { try await market() }

    struct LogNotReadable: Error {}

    static func market(_ label: String = "replay", config: SimulationConfig = Self.config) async throws -> (
        ConnectionPool, [RecordedEvent]
    ) {
        let pool = try await TestDatabase.fresh(label, maxConnections: 8)
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        let summary = try await MarketSimulator(service: service, config: config).run()
        #expect(summary.unexpectedRejections == 0)
        let freelancers = try await pool.query(
            """
            SELECT stream_id FROM ledger.events WHERE event_type = 'FreelancerRegistered' ORDER BY global_position LIMIT 3
            """
        ).rows.map { String(try $0.decode(String.self, at: 0).dropFirst("freelancer-".count)) }
        // Counted from the outcomes: which three freelancers come first in the log depends on how
        // the simulator's workers interleave, and a change to a value a freelancer already has
        // appends nothing.
        var appended = 0
        func run(_ fields: [String: JSONValue]) async throws {
            appended += try await service.execute(try CommandInput(fields: fields).command()).events.count
        }
        for (n, id) in freelancers.enumerated() {
            let actor = JSONValue.string("freelancer:\(id)")
            try await run([
                "command": "UpdateSkills", "actor": actor, "freelancerId": .string(id),
                "skills": [
                    ["skill": "nlp", "level": 3], ["skill": .string(n == 0 ? "python" : "edge-ai"), "level": 1],
                ],
            ])
            try await run([
                "command": "ChangeRate", "actor": actor, "freelancerId": .string(id),
                "hourlyRate": ["currency": "EUR", "amount": "77.00"],
            ])
            try await run([
                "command": "ChangeAvailability", "actor": actor, "freelancerId": .string(id),
                "hoursPerWeek": .number(Double(12 + n)),
            ])
            try await run([
                "command": "UpdateSkills", "actor": actor, "freelancerId": .string(id),
                "skills": [["skill": "explainable-ai", "level": 2]],
            ])
        }
        let total = summary.events + appended
        var readable = 0
        let found = try await eventually(timeout: .seconds(90)) { () async throws -> [RecordedEvent]? in
            let events = try await store.readAll(after: .start, limit: 1_000_000).events
            readable = events.count
            return events.count >= total ? events : nil
        }
        guard let events = found else {
            let holders = await TestDatabase.horizonHolders(pool)
            Issue.record("Only \(readable) of \(total) events readable after 90 s. Holding the horizon: \(holders)")
            throw LogNotReadable()
        }
        let engine = ProjectionEngine(
            store: store, projectors: ShippedProjectors.all, owner: label, batchSize: 5_000)
        try await engine.prepare()
        try await engine.catchUpAll()
        try await engine.releaseLeases()
        #expect(try await engine.status().allSatisfy { $0.lagEvents == 0 && $0.state == "running" })
        return (pool, events)
    }

    /// Every row of each of `tables` in `schema`, as sorted text.
    static func snapshot(_ pool: ConnectionPool, schema: String, _ tables: [String]) async throws -> [String: [String]]
    {
        var out: [String: [String]] = [:]
        for table in tables {
            out[table] = try await pool.query(
                """
                SELECT t::text FROM \(identifier: schema).\(identifier: table) t ORDER BY 1
                """
            ).rows.map { try $0.decode(String.self, at: 0) }
        }
        return out
    }

    /// Names the rows that differ, to make a failure readable.
    static func recordDifferences(_ got: [String: [String]], _ expected: [String: [String]], _ tables: [String]) {
        for table in tables where got[table] != expected[table] {
            let a = Set(got[table] ?? [])
            let b = Set(expected[table] ?? [])
            Issue.record(
                "\(table): unexpected \(a.subtracting(b).sorted().prefix(3)); missing \(b.subtracting(a).sorted().prefix(3))"
            )
        }
    }

    static func apply(
        _ projector: any Projector, _ events: [RecordedEvent], schema: String, _ pool: ConnectionPool,
        batch: Int = 2_000
    ) async throws {
        var start = events.startIndex
        while start < events.endIndex {
            let end = min(events.endIndex, start + batch)
            let slice = Array(events[start..<end])
            try await pool.withTransaction { conn in
                try await conn.execute("SELECT set_config('search_path', \(schema + ", read_models"), true)")
                try await projector.apply(batch: slice, on: conn)
            }
            start = end
        }
    }

    @Test(arguments: ["competition_gigs", "competition_skills", "price_trends", "matching", "timers"])
    func reApplyingASuffixOrAStreamChangesNothing(_ name: String) async throws {
        let (pool, events) = try await Self.shared.value
        let projector = try #require(ShippedProjectors.all.first { $0.name == name })
        let before = try await Self.snapshot(pool, schema: "read_models", projector.tables)
        #expect(before.values.contains { !$0.isEmpty })

        // Suffixes: the last few events, the second half, and everything after the first event.
        for start in [events.count - 7, events.count / 2, 1] {
            try await Self.apply(projector, Array(events[start...]), schema: "read_models", pool)
            #expect(
                try await Self.snapshot(pool, schema: "read_models", projector.tables) == before,
                "suffix from event \(start)")
        }
        // Every event of one stream, in order, after the whole log: a freelancer with changed
        // skills, the gig with the most events, and a contract that was reviewed.
        let changed = try #require(events.first { $0.type == "SkillsUpdated" }?.stream)
        let busiest = try #require(
            Dictionary(grouping: events.filter { $0.stream.rawValue.hasPrefix("gig-") }, by: \.stream)
                .max { ($0.value.count, $1.key.rawValue) < ($1.value.count, $0.key.rawValue) }?.key)
        let reviewed = try #require(events.first { $0.type == "ReviewSubmitted" }?.stream)
        for stream in [changed, busiest, reviewed] {
            for batch in [1, 1_000] {
                try await Self.apply(
                    projector, events.filter { $0.stream == stream }, schema: "read_models", pool, batch: batch)
                let after = try await Self.snapshot(pool, schema: "read_models", projector.tables)
                #expect(after == before, "stream \(stream.rawValue), batches of \(batch)")
                Self.recordDifferences(after, before, projector.tables)
            }
        }
    }

    @Test(arguments: ["competition_gigs", "competition_skills", "price_trends", "matching", "timers"])
    func aBatchEqualsItsEventsOneByOne(_ name: String) async throws {
        let (pool, events) = try await Self.shared.value
        let projector = try #require(ShippedProjectors.all.first { $0.name == name })
        let schema = "one_by_one_\(name)"
        try await pool.withTransaction { conn in
            try await conn.execute("CREATE SCHEMA \(identifier: schema)")
            try await conn.execute("SELECT set_config('search_path', \(schema + ", read_models"), true)")
            try await projector.prepare(on: conn)
        }
        try await Self.apply(projector, events, schema: schema, pool, batch: 1)
        let batched = try await Self.snapshot(pool, schema: "read_models", projector.tables)
        #expect(batched.values.contains { !$0.isEmpty })
        let single = try await Self.snapshot(pool, schema: schema, projector.tables)
        #expect(single == batched)
        Self.recordDifferences(single, batched, projector.tables)
    }
}
