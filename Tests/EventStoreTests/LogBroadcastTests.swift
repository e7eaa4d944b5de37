import Foundation
import PQ
import TestSupport
import Testing

@testable import EventStore

@Suite("The log broadcast: one reader, a window, followers that fall behind read the database")
struct LogBroadcastTests {
    /// Runs a broadcast's reader for the length of a test.
    final class Running: Sendable {
        let broadcast: LogBroadcast
        let task: Task<Void, Never>
        init(_ broadcast: LogBroadcast) {
            self.broadcast = broadcast
            task = Task { await broadcast.run() }
        }
        deinit { task.cancel() }

        /// Waits (bounded) until the reader has found its horizon.
        func started() async throws {
            _ = try await eventually { broadcast.state.withLock { $0.base } }
        }
    }

    /// A follower's events, collected in a task of its own.
    final class Collector: Sendable {
        actor Received {
            var events: [StoredEvent] = []
            var empties = 0
            func add(_ batch: LogBatch<StoredEvent>) {
                events += batch.events
                if batch.events.isEmpty { empties += 1 }
            }
        }
        let task: Task<Void, any Error>
        let received = Received()

        init(_ follow: LogBroadcast.Follow) {
            let received = received
            task = Task {
                for try await batch in follow { await received.add(batch) }
            }
        }

        /// Every event received once there are `count`; empty if they do not arrive within 90 s.
        func all(_ count: Int) async throws -> [StoredEvent] {
            try await eventually {
                let events = await self.received.events
                return events.count >= count ? events : nil
            } ?? []
        }
    }

    func append(_ store: EventStore, _ category: String, _ types: [String]) async throws {
        for type in types {
            try await store.append([event(type)], to: stream(category), expecting: .noStream, metadata: metadata())
        }
    }

    @Test func followersFromAnyCheckpointGetWhatTheirOwnFollowReadsWhileTheWindowMoves() async throws {
        let pool = try await TestDatabase.pool(for: "esbroadcast")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("bcast")
        let types = (0..<40).map { $0 % 3 == 0 ? "Kept" : "Other" }
        // Written before the broadcast starts: below its horizon, read from the database.
        try await append(store, category, Array(types.prefix(20)))
        let early = try await readAll(store, categories: [category], atLeast: 20)
        // A window of 4: most of what follows is dropped from it before the test ends.
        let running = Running(LogBroadcast(store: store, window: 4, batchSize: 3, tick: .milliseconds(50)))
        try await running.started()
        let all = LogFilter(categories: [category])
        let kept = LogFilter(categories: [category], types: ["Kept"])
        let fromStart = Collector(running.broadcast.follow(filter: all, batchSize: 5))
        let fromMiddle = Collector(running.broadcast.follow(after: early[9].checkpoint, filter: all, batchSize: 2))
        let onlyKept = Collector(running.broadcast.follow(filter: kept))
        defer { for collector in [fromStart, fromMiddle, onlyKept] { collector.task.cancel() } }
        try await append(store, category, Array(types.suffix(20)))

        let expected = try await readAll(store, categories: [category], atLeast: 40)
        #expect(try await fromStart.all(40).map(\.position) == expected.map(\.position))
        #expect(try await fromMiddle.all(30).map(\.position) == expected.dropFirst(10).map(\.position))
        let expectedKept = expected.filter { $0.type == "Kept" }
        #expect(try await onlyKept.all(expectedKept.count).map(\.position) == expectedKept.map(\.position))
        // Memory is the window: never more than twice its size between trims.
        #expect(running.broadcast.state.withLock { $0.events.count } <= 8)
    }

    @Test func aFollowerOutsideTheWindowCatchesUpFromTheDatabaseWithoutGapsOrRepeats() async throws {
        let pool = try await TestDatabase.pool(for: "esbroadcast")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("slow")
        let running = Running(LogBroadcast(store: store, window: 2, batchSize: 2, tick: .milliseconds(50)))
        try await running.started()
        try await append(store, category, ["First"])
        let first = try await readAll(store, categories: [category], atLeast: 1)
        // The follower takes one batch, then stops consuming while 30 more events pass through
        // the broadcast (so its checkpoint drops out of the window), then goes on.
        var iterator = running.broadcast.follow(filter: LogFilter(categories: [category]), batchSize: 4)
            .makeAsyncIterator()
        let head = try await iterator.next()
        #expect(head?.events.map(\.position) == first.map(\.position))
        try await append(store, category, Array(repeating: "Later", count: 30))
        let expected = try await readAll(store, categories: [category], atLeast: 31)
        let passed = try await eventually {
            running.broadcast.state.withLock { state in
                (state.head ?? .start) >= expected[30].checkpoint ? state.base : nil
            }
        }
        #expect(try #require(passed) > expected[0].checkpoint, "its checkpoint is behind the window now")
        var rest: [StoredEvent] = []
        while rest.count < 30, let batch = try await iterator.next() { rest += batch.events }
        #expect(rest.map(\.position) == expected.dropFirst().map(\.position))
    }

    @Test func eventsHeldBackByAnOlderTransactionComeInGapSafeOrder() async throws {
        let pool = try await TestDatabase.pool(for: "esbroadcast")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("held")
        let running = Running(LogBroadcast(store: store, window: 100, tick: .milliseconds(50)))
        try await running.started()
        let collector = Collector(running.broadcast.follow(filter: LogFilter(categories: [category])))
        defer { collector.task.cancel() }
        // A takes a transaction id, B appends and commits, then A appends and commits: A's event
        // has the higher position and the older transaction, so it comes first.
        let connectionA = try await Connection.connect(pool.config)
        try await connectionA.execute("BEGIN")
        _ = try await connectionA.query("SELECT pg_current_xact_id()")
        let resultB = try await store.append(
            [event("FromB")], to: stream(category), expecting: .noStream, metadata: metadata())
        let requestA = AppendRequest(
            metadata: metadata(),
            streams: [StreamAppend(stream: stream(category), expected: .noStream, events: [event("FromA")])])
        let resultA = try AppendResult(
            json: try await connectionA.query(EventStore.appendStatement(requestA)).scalar(PGJSON.self))
        try await connectionA.execute("COMMIT")
        await connectionA.close()
        let arrived = try await collector.all(2)
        #expect(arrived.map(\.type) == ["FromA", "FromB"])
        #expect(arrived.map(\.position) == [resultA.positions[0], resultB.positions[0]])
    }

    @Test func anIdleFollowerGetsEmptyBatchesAndEndsWhenCancelled() async throws {
        let pool = try await TestDatabase.pool(for: "esbroadcast")
        let store = EventStore(pool: pool)
        let running = Running(LogBroadcast(store: store, tick: .milliseconds(20)))
        try await running.started()
        let start = try await store.headCheckpoint()
        let collector = Collector(
            running.broadcast.follow(
                after: start, filter: LogFilter(categories: [uniqueCategory("idle")]), idleAfter: .milliseconds(50)))
        let heartbeats = try await eventually { await collector.received.empties >= 2 ? true : nil }
        #expect(heartbeats == true)
        #expect(await collector.received.events.isEmpty)
        collector.task.cancel()
        let ended = await collector.task.result
        #expect((try? ended.get()) != nil, "a cancelled follower ends its sequence; it does not throw")
        #expect(running.broadcast.state.withLock { $0.waiters.isEmpty }, "the follower gave up its signal")
    }
}
