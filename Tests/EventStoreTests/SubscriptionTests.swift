import EventStore
import Foundation
import PQ
import TestSupport
import Testing

@Suite("Subscriptions: catch up, follow live, exactly-once effects")
struct SubscriptionTests {
    @Test func anEventAppendedWhileWaitingArrivesWithoutPolling() async throws {
        let pool = try await TestDatabase.pool(for: "essub")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("live")
        // A fallback poll of 10 minutes: only the NOTIFY can deliver the event within the test.
        let subscription = Subscription(
            name: "live-\(category)", store: store, fallbackPoll: .seconds(600), categories: [category])
        let (received, continuation) = AsyncStream.makeStream(of: String.self)
        let running = Task {
            try await subscription.run { batch, _ in
                for event in batch.events { continuation.yield(event.type) }
            }
        }
        // Let it catch up (nothing) and start waiting, then append.
        try await Task.sleep(for: .milliseconds(300))
        try await store.append([event("Live")], to: stream(category), expecting: .noStream, metadata: metadata())
        // Bounded, so a broken wake-up fails the test instead of hanging the run (the fallback
        // poll is 10 minutes, so arriving within 60 s proves the NOTIFY woke it).
        let first = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                var iterator = received.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(60))
                return nil
            }
            let value = await group.next() ?? nil
            group.cancelAll()
            return value
        }
        #expect(first == "Live")
        running.cancel()
        continuation.finish()
        _ = await running.result
    }

    @Test func effectsAndCheckpointCommitTogether() async throws {
        struct Crash: Error {}
        let pool = try await TestDatabase.pool(for: "essub")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("once")
        let table = "effects_\(category)"
        try await pool.query("CREATE TABLE \(identifier: table) (position bigint PRIMARY KEY)")
        for i in 0..<30 {
            try await store.append(
                [event("Counted", i)], to: stream(category), expecting: .noStream, metadata: metadata())
        }
        _ = try await readAll(store, categories: [category], atLeast: 30)
        let subscription = Subscription(name: "once-\(category)", store: store, batchSize: 7, categories: [category])
        let handled = Counter()
        // The consumer crashes in its third batch, after writing part of it.
        await #expect(throws: Crash.self) {
            try await subscription.catchUp { batch, connection in
                for event in batch.events {
                    try await connection.execute("INSERT INTO \(identifier: table) VALUES (\(event.position))")
                }
                if await handled.next() == 3 { throw Crash() }
            }
        }
        #expect(try await pool.query("SELECT count(*) FROM \(identifier: table)").scalar(Int.self) == 14)
        // Resumed: continues after the last committed batch; every event's effect exactly once
        // (a repeat would violate the primary key).
        let resumed = try await subscription.catchUp { batch, connection in
            for event in batch.events {
                try await connection.execute("INSERT INTO \(identifier: table) VALUES (\(event.position))")
            }
        }
        #expect(resumed == 16)
        #expect(try await pool.query("SELECT count(*) FROM \(identifier: table)").scalar(Int.self) == 30)
        let checkpoint = try await subscription.checkpoint()
        let last = try await readAll(store, categories: [category], atLeast: 30).last
        #expect(checkpoint == last?.checkpoint)
    }

    @Test func twoInstancesNeverApplyTheSameBatch() async throws {
        let pool = try await TestDatabase.pool(for: "essub", maxConnections: 10)
        let store = EventStore(pool: pool)
        let category = uniqueCategory("dual")
        let table = "dual_\(category)"
        try await pool.query("CREATE TABLE \(identifier: table) (position bigint PRIMARY KEY)")
        for i in 0..<40 {
            try await store.append(
                [event("Counted", i)], to: stream(category), expecting: .noStream, metadata: metadata())
        }
        _ = try await readAll(store, categories: [category], atLeast: 40)
        let subscription = Subscription(name: "dual-\(category)", store: store, batchSize: 3, categories: [category])
        let totals = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await subscription.catchUp { batch, connection in
                        for event in batch.events {
                            try await connection.execute("INSERT INTO \(identifier: table) VALUES (\(event.position))")
                        }
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(totals == 40)
        #expect(try await pool.query("SELECT count(*) FROM \(identifier: table)").scalar(Int.self) == 40)
    }
}

actor Counter {
    private(set) var value = 0
    func next() -> Int {
        value += 1
        return value
    }
}
