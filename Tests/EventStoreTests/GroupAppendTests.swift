import Foundation
import PQ
import TestSupport
import Testing

@testable import EventStore

/// Group append (``AppendGrouping``): concurrent appends coalesced into one transaction, each
/// command's outcome its own.
@Suite("Group append: concurrent appends in one transaction, each outcome its own")
struct GroupAppendTests {
    /// One command of the generated workload, written against stream names of a category given
    /// later, so the same workload runs twice (grouped and one by one) on separate streams.
    struct Template: Sendable {
        enum Kind: Sendable { case fresh, multi, conflict, conflictingMulti, rejected, duplicate, shared }
        let kind: Kind
        /// Index of the command id (duplicates share their original's).
        let idSlot: Int
        /// Stream keys (turned into stream names per run) with their expectation and events.
        let streams: [(key: String, expected: ExpectedVersion, events: [NewEvent])]
    }

    enum Outcome: Hashable, Sendable, CustomStringConvertible {
        case stored(positions: [Int64])
        case failed(EventStoreError.Code)
        var description: String {
            switch self {
            case .stored(let positions): "stored \(positions)"
            case .failed(let code): "failed \(code)"
            }
        }
        var kind: String {
            switch self {
            case .stored: "stored"
            case .failed(let code): "failed \(code)"
            }
        }
    }

    /// A workload whose outcomes do not depend on the order the commands run in: fresh streams,
    /// two-stream appends, conflicts (against streams created before), a two-stream append of
    /// which one stream conflicts (so nothing of it may be stored), malformed events, repeated
    /// command ids, and appends to one shared stream with `.any`.
    static func workload(_ random: inout some RandomNumberGenerator, count: Int) -> [Template] {
        var templates: [Template] = []
        var freshIndexes: [Int] = []
        for n in 0..<count {
            let events = (0..<Int.random(in: 1...3, using: &random)).map { event("Happened", n * 10 + $0) }
            let kind: Template.Kind
            if !freshIndexes.isEmpty && Int.random(in: 0..<8, using: &random) == 0 {
                kind = .duplicate
            } else {
                let kinds: [Template.Kind] = [.fresh, .fresh, .multi, .conflict, .conflictingMulti, .rejected, .shared]
                kind = kinds.randomElement(using: &random) ?? .fresh
            }
            switch kind {
            case .fresh:
                freshIndexes.append(templates.count)
                templates.append(Template(kind: kind, idSlot: n, streams: [("f\(n)", .noStream, events)]))
            case .multi:
                templates.append(
                    Template(
                        kind: kind, idSlot: n,
                        streams: [("ma\(n)", .noStream, events), ("mb\(n)", .noStream, [event("Other", n)])]))
            case .conflict:
                templates.append(Template(kind: kind, idSlot: n, streams: [("existing", .exactly(7), events)]))
            case .conflictingMulti:
                templates.append(
                    Template(
                        kind: kind, idSlot: n,
                        streams: [("cm\(n)", .noStream, events), ("existing", .noStream, [event("Never", n)])]))
            case .rejected:
                templates.append(
                    Template(kind: kind, idSlot: n, streams: [("r\(n)", .noStream, [event("not-a-type", n)])]))
            case .shared:
                templates.append(Template(kind: kind, idSlot: n, streams: [("shared", .any, events)]))
            case .duplicate:
                let original = templates[freshIndexes.randomElement(using: &random) ?? 0]
                templates.append(Template(kind: kind, idSlot: original.idSlot, streams: original.streams))
            }
        }
        return templates
    }

    static func request(_ template: Template, category: String, ids: [UUID]) -> AppendRequest {
        AppendRequest(
            metadata: metadata(ids[template.idSlot]),
            streams: template.streams.map { part in
                StreamAppend(stream: stream(category, part.key), expected: part.expected, events: part.events)
            })
    }

    static func run(_ request: AppendRequest, on store: EventStore) async -> Outcome {
        do {
            return .stored(positions: try await store.append(request).positions)
        } catch {
            return .failed(error.code)
        }
    }

    /// Every event of `category`, per stream key, as (version, type, data).
    static func log(_ pool: ConnectionPool, category: String) async throws -> [String: [String]] {
        let rows = try await pool.query(
            """
            SELECT split_part(stream_id, '-', 2) AS key, stream_version, event_type, data::text AS data, global_position
            FROM ledger.events WHERE category = \(category) ORDER BY stream_id, stream_version
            """)
        var log: [String: [String]] = [:]
        for row in rows.rows {
            let key = try row.decode(String.self, "key")
            let entry =
                "\(try row.decode(Int64.self, "stream_version")) \(try row.decode(String.self, "event_type")) \(try row.decode(String.self, "data"))"
            log[key, default: []].append(entry)
        }
        return log
    }

    /// The same outcome per command grouped as one by one (positions differ between the runs; a
    /// repeated command id reports its original's positions), and a workload that has conflicts.
    static func expectSameOutcomes(_ templates: [Template], grouped: [Outcome], oneByOne: [Outcome]) throws {
        for (index, template) in templates.enumerated() {
            #expect(
                grouped[index].kind == oneByOne[index].kind,
                "command \(index) (\(template.kind)): grouped \(grouped[index]), one by one \(oneByOne[index])")
        }
        for (index, template) in templates.enumerated() where template.kind == .duplicate {
            let original = try #require(templates.firstIndex { $0.idSlot == template.idSlot })
            #expect(grouped[index] == grouped[original], "a repeated id is answered with the first result")
        }
        #expect(oneByOne.contains { $0 == .failed(.wrongExpectedVersion) }, "the workload has conflicts")
    }

    @Test(arguments: [1, 2, 3])
    func randomInterleavingsGiveTheOutcomesOfOneByOne(seed: UInt64) async throws {
        let pool = try await TestDatabase.pool(for: "esgroup", maxConnections: 10)
        var random = SeededRandom(seed: seed)
        let templates = Self.workload(&random, count: 48)
        let grouped = EventStore(pool: pool, grouping: AppendGrouping(maxCommands: 8, maxGroupsInFlight: 1))
        let alone = EventStore(pool: pool)

        var outcomes: [[Outcome]] = []
        var logs: [[String: [String]]] = []
        var categories: [String] = []
        for (store, concurrent) in [(grouped, true), (alone, false)] {
            let category = uniqueCategory("grp")
            categories.append(category)
            try await alone.append(
                [event("Existing")], to: stream(category, "existing"), expecting: .noStream, metadata: metadata())
            let ids = (0..<templates.count).map { _ in UUID() }
            let requests = templates.map { Self.request($0, category: category, ids: ids) }
            var results = [Outcome](repeating: .failed(.database), count: templates.count)
            if concurrent {
                // All at once, in a random order, each after a random number of yields.
                let order = Array(templates.indices).shuffled(using: &random)
                let yields = order.map { _ in Int.random(in: 0...3, using: &random) }
                try await withThrowingTaskGroup(of: (Int, Outcome).self) { group in
                    for (index, pause) in zip(order, yields) {
                        group.addTask {
                            for _ in 0..<pause { await Task.yield() }
                            return (index, await Self.run(requests[index], on: store))
                        }
                    }
                    for try await (index, outcome) in group { results[index] = outcome }
                }
            } else {
                for index in templates.indices { results[index] = await Self.run(requests[index], on: store) }
            }
            outcomes.append(results)
            logs.append(try await Self.log(pool, category: category))
        }

        try Self.expectSameOutcomes(templates, grouped: outcomes[0], oneByOne: outcomes[1])
        #expect(outcomes[1].contains { $0 == .failed(.invalidAppend) }, "the workload has rejections")

        // Same log per stream, except the shared stream, whose order depends on the interleaving.
        var groupedLog = logs[0]
        var aloneLog = logs[1]
        let sharedGrouped = groupedLog.removeValue(forKey: "shared") ?? []
        let sharedAlone = aloneLog.removeValue(forKey: "shared") ?? []
        #expect(groupedLog == aloneLog)
        #expect(sharedGrouped.count == sharedAlone.count)
        #expect(sharedGrouped.map { $0.split(separator: " ")[0] } == sharedAlone.map { $0.split(separator: " ")[0] })
        #expect(
            sharedGrouped.map { $0.split(separator: " ").dropFirst().joined(separator: " ") }.sorted()
                == sharedAlone.map { $0.split(separator: " ").dropFirst().joined(separator: " ") }.sorted())

        // Nothing acknowledged that is not in the log, nothing in the log that was refused.
        let category = categories[0]
        let stored = try await pool.query(
            "SELECT global_position FROM ledger.events WHERE category = \(category) AND stream_id <> \(stream(category, "existing").rawValue)"
        ).rows.map { try $0.decode(Int64.self, at: 0) }
        var acknowledged: Set<Int64> = []
        for outcome in outcomes[0] { if case .stored(let positions) = outcome { acknowledged.formUnion(positions) } }
        #expect(Set(stored) == acknowledged)
        #expect(stored.count == acknowledged.count)

        // And the commands really travelled together: some transaction holds several commands.
        let largestGroup = try await pool.query(
            """
            SELECT coalesce(max(commands), 0) FROM (
                SELECT count(DISTINCT metadata->>'commandId') AS commands FROM ledger.events
                WHERE category = \(category) GROUP BY transaction_id) AS per_transaction
            """
        ).scalar(Int.self)
        #expect(largestGroup > 1)
    }

    /// The outcome of each command of one call to `ledger.append_group_at_once`, or nil when it
    /// declined the group (raised); a declined call leaves nothing behind (its own transaction).
    static func atOnce(_ requests: [AppendRequest], on pool: ConnectionPool) async throws -> [Outcome]? {
        var group: [(commandId: UUID, arrays: AppendArrays)] = []
        for request in requests { group.append((request.commandId, try AppendArrays(request))) }
        let call: SQL = """
            SELECT u.r::text, u.s FROM ledger.append_group_at_once(
            """
        let rest: SQL = """
            ) AS a, unnest(a.results, a.error_states) WITH ORDINALITY AS u(r, s, n) ORDER BY u.n
            """
        let rows: [Row]
        do {
            rows = try await pool.query(call + EventStore.groupArguments(group) + rest).rows
        } catch {
            return nil
        }
        return try rows.map { row in
            if let result = try row.decode(String?.self, at: 0) {
                return .stored(positions: try AppendResult(json: PGJSON(text: result)).positions)
            }
            let state = try row.decode(String?.self, at: 1)
            return state == "GL409" ? .failed(.wrongExpectedVersion) : .failed(.database)
        }
    }

    /// Groups taken at once give, command for command, what `ledger.append` gives one by one:
    /// the same outcomes (conflicts against the log and against earlier commands of the group,
    /// a two-stream command that conflicts on one stream storing nothing, ids repeated within
    /// the group and across groups) and the same log, stream by stream (the shared stream's order
    /// too, since both run the commands in the same order).
    @Test(arguments: [11, 12, 13, 14])
    func atOnceDecidesEveryCommandAsLedgerAppendWouldOneByOne(seed: UInt64) async throws {
        let pool = try await TestDatabase.pool(for: "esgroup", maxConnections: 4)
        var random = SeededRandom(seed: seed)
        // Malformed commands make the at-once path decline; they are tested below.
        let templates = Self.workload(&random, count: 40).map { template in
            template.kind == .rejected
                ? Template(
                    kind: .fresh, idSlot: template.idSlot,
                    streams: [("r\(template.idSlot)", .noStream, [event("Fine")])])
                : template
        }
        let alone = EventStore(pool: pool)
        var outcomes: [[Outcome]] = []
        var logs: [[String: [String]]] = []
        for atOnce in [true, false] {
            let category = uniqueCategory("grpset")
            try await alone.append(
                [event("Existing")], to: stream(category, "existing"), expecting: .noStream, metadata: metadata())
            let ids = (0..<templates.count).map { _ in UUID() }
            let requests = templates.map { Self.request($0, category: category, ids: ids) }
            var results: [Outcome] = []
            if atOnce {
                // Groups of 1 to 12 commands.
                var start = 0
                while start < requests.count {
                    let end = min(requests.count, start + Int.random(in: 1...12, using: &random))
                    let group = try #require(try await Self.atOnce(Array(requests[start..<end]), on: pool))
                    #expect(group.count == end - start)
                    results += group
                    start = end
                }
            } else {
                for request in requests { results.append(await Self.run(request, on: alone)) }
            }
            outcomes.append(results)
            logs.append(try await Self.log(pool, category: category))
        }
        try Self.expectSameOutcomes(templates, grouped: outcomes[0], oneByOne: outcomes[1])
        #expect(logs[0] == logs[1])
        #expect(logs[0]["shared"]?.isEmpty == false)
    }

    /// A group with a malformed command is declined as a whole by the at-once path (nothing of it
    /// stored), and `ledger.append_group` then answers each command on its own.
    @Test func aMalformedCommandSendsItsGroupCommandByCommand() async throws {
        let pool = try await TestDatabase.pool(for: "esgroup", maxConnections: 4)
        let category = uniqueCategory("grpdecl")
        let requests = [
            AppendRequest(
                metadata: metadata(),
                streams: [StreamAppend(stream: stream(category, "a"), expected: .noStream, events: [event("Fine")])]),
            AppendRequest(
                metadata: metadata(),
                streams: [
                    StreamAppend(stream: stream(category, "b"), expected: .noStream, events: [event("not-a-type")])
                ]),
        ]
        #expect(try await Self.atOnce(requests, on: pool) == nil)
        #expect(try await Self.log(pool, category: category).isEmpty)

        var group: [(commandId: UUID, arrays: AppendArrays)] = []
        for request in requests { group.append((request.commandId, try AppendArrays(request))) }
        let rows = try await pool.query(EventStore.groupStatement(group)).rows
        try #require(rows.count == 2)
        #expect(try rows[0].decode(PGJSON?.self, at: 0) != nil)
        #expect(try rows[1].decode(String?.self, at: 1) == "23514")
        #expect(try rows[1].decode(String?.self, at: 4) == "events_event_type_format")
        #expect(try await Self.log(pool, category: category).keys.sorted() == ["a"])
    }

    @Test func aGroupIsHeldBackByAnOlderOpenTransactionAndAppearsWhole() async throws {
        let pool = try await TestDatabase.pool(for: "esgroup", maxConnections: 10)
        let store = EventStore(pool: pool, grouping: AppendGrouping(maxCommands: 8, maxGroupsInFlight: 1))
        let category = uniqueCategory("grpgap")
        // Transaction A appends and stays open.
        let connectionA = try await Connection.connect(pool.config)
        try await connectionA.executeScript("BEGIN")
        let requestA = AppendRequest(
            metadata: metadata(),
            streams: [StreamAppend(stream: stream(category), expected: .noStream, events: [event("FromA")])])
        _ = try await connectionA.query(EventStore.appendStatement(requestA))
        // Twelve appends after A, concurrently: they commit in groups.
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for n in 0..<12 {
                group.addTask {
                    try await store.append(
                        [event("Later", n)], to: stream(category), expecting: .noStream, metadata: metadata())
                }
            }
            return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
        }
        #expect(results.count == 12)
        // Committed, but behind an open older transaction: nothing of them may be read yet.
        let whileOpen = try await store.readAll(after: .start, limit: 100, categories: [category])
        #expect(whileOpen.events.isEmpty)
        try await connectionA.executeScript("COMMIT")
        await connectionA.close()
        let events = try await readAll(store, categories: [category], atLeast: 13, after: whileOpen.next)
        #expect(events.count == 13)
        #expect(events.first?.type == "FromA")
        #expect(
            Set(events.map(\.position)) == Set(results.flatMap(\.positions)).union(events.prefix(1).map(\.position)))
    }

    @Test func oneCommandsFailureInAGroupLeavesTheOthersStored() async throws {
        let pool = try await TestDatabase.pool(for: "esgroup", maxConnections: 10)
        let store = EventStore(pool: pool)
        let category = uniqueCategory("grpsql")
        let ids = [UUID(), UUID(), UUID()]
        let group = [
            AppendRequest(
                metadata: metadata(ids[0]),
                streams: [StreamAppend(stream: stream(category, "a"), expected: .noStream, events: [event("A")])]),
            AppendRequest(
                metadata: metadata(ids[1]),
                streams: [StreamAppend(stream: stream(category, "a"), expected: .noStream, events: [event("B")])]),
            AppendRequest(
                metadata: metadata(ids[0]),
                streams: [StreamAppend(stream: stream(category, "a"), expected: .noStream, events: [event("A")])]),
        ]
        var arrays: [(commandId: UUID, arrays: AppendArrays)] = []
        for request in group { arrays.append((request.commandId, try AppendArrays(request))) }
        let rows = try await pool.query(EventStore.groupStatement(arrays)).rows
        try #require(rows.count == 3)
        let first = try AppendResult(json: try #require(try rows[0].decode(PGJSON?.self, at: 0)))
        #expect(first.duplicate == false)
        #expect(try rows[1].decode(String?.self, at: 1) == "GL409")
        let repeated = try AppendResult(json: try #require(try rows[2].decode(PGJSON?.self, at: 0)))
        #expect(repeated.duplicate == true)
        #expect(repeated.positions == first.positions)
        #expect(try await store.streamVersion(stream(category, "a")) == 1)
    }
}

/// A small deterministic generator (SplitMix64), so a failing seed can be run again.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
