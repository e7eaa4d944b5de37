import Foundation
import PQ
import TestSupport
import Testing

@testable import EventStore

@Suite("Following the log: catch-up, live wake-up, held-back re-check, cancellation, filters, resume")
struct LogFollowTests {
    /// Collects a live follower's events in a task of its own, so a test can append and then
    /// await what arrives (each wait bounded, so a broken wake-up fails instead of hanging).
    final class Collector: Sendable {
        actor Received {
            var events: [StoredEvent] = []
            var taken = 0
            func add(_ more: [StoredEvent]) { events += more }
            /// The next `count` events not taken yet, once that many arrived.
            func take(_ count: Int) -> [StoredEvent]? {
                guard events.count >= taken + count else { return nil }
                defer { taken += count }
                return Array(events[taken..<taken + count])
            }
        }
        let task: Task<Void, any Error>
        let received = Received()

        init(_ follow: LogFollow) {
            let received = received
            task = Task {
                for try await batch in follow { await received.add(batch.events) }
            }
        }

        /// The next `count` events; empty if they do not arrive within 90 s.
        func next(_ count: Int) async throws -> [StoredEvent] {
            try await eventually(timeout: .seconds(90)) { await self.received.take(count) } ?? []
        }
    }

    /// Waits (bounded) for `task` to end; `true` if it did.
    func ends(_ task: Task<Void, any Error>, within timeout: Duration = .seconds(30)) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = await task.result
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    func allOf(_ follow: LogFollow) async throws -> [LogBatch<StoredEvent>] {
        var batches: [LogBatch<StoredEvent>] = []
        for try await batch in follow { batches.append(batch) }
        return batches
    }

    @Test func catchesUpInGapSafeBatchesEachWithTheCheckpointAfterIt() async throws {
        let pool = try await TestDatabase.pool(for: "esfollow")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("catch")
        for i in 0..<25 {
            try await store.append(
                [event("Counted", i)], to: stream(category), expecting: .noStream, metadata: metadata())
        }
        let expected = try await readAll(store, categories: [category], atLeast: 25)
        let batches = try await allOf(
            store.follow(filter: LogFilter(categories: [category]), batchSize: 4, mode: .untilCaughtUp))
        #expect(batches.flatMap(\.events).map(\.position) == expected.map(\.position))
        #expect(batches.allSatisfy { $0.events.count <= 4 && $0.next == $0.events.last?.checkpoint })
        #expect(batches.count == 7)
    }

    @Test func anEventAppendedWhileWaitingArrivesWithoutPolling() async throws {
        let pool = try await TestDatabase.pool(for: "esfollow")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("live")
        try await store.append([event("First")], to: stream(category), expecting: .noStream, metadata: metadata())
        // A fallback poll of 10 minutes: within the test only a wake-up can deliver the event.
        let collector = Collector(
            store.follow(filter: LogFilter(categories: [category]), fallbackPoll: .seconds(600)))
        defer { collector.task.cancel() }
        // The first event arriving shows the follower listens (it listens before its first read).
        #expect(try await collector.next(1).map(\.type) == ["First"])
        try await store.append([event("Live")], to: stream(category), expecting: .noStream, metadata: metadata())
        #expect(try await collector.next(1).map(\.type) == ["Live"])
    }

    @Test func eventsHeldBackByAnOlderTransactionArriveWithoutAnotherNotification() async throws {
        let pool = try await TestDatabase.pool(for: "esfollow")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("held")
        let filter = LogFilter(categories: [category])
        try await store.append([event("First")], to: stream(category), expecting: .noStream, metadata: metadata())
        let collector = Collector(store.follow(filter: filter, fallbackPoll: .seconds(600)))
        defer { collector.task.cancel() }
        let first = try await collector.next(1)
        #expect(first.map(\.type) == ["First"])
        let afterFirst = try #require(first.last?.checkpoint)

        // A takes a transaction id, then B appends and commits (and notifies), then A appends:
        // A's event has the higher position but the older transaction, so it comes first in
        // gap-safe order, and B is held back until A commits.
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
        #expect(resultA.positions[0] > resultB.positions[0])
        #expect(try await store.hasHeldBackEvents(after: afterFirst, filter: filter))
        // Give the follower time to spend B's notification on a read that finds B held back (the
        // outcome asserted below is the same either way; this only makes the re-check the path).
        try await Task.sleep(for: .milliseconds(300))
        // A commits without notifying: only the follower's own re-check can find A and B now.
        try await connectionA.execute("COMMIT")
        await connectionA.close()
        let arrived = try await collector.next(2)
        try #require(arrived.map(\.type) == ["FromA", "FromB"])
        #expect(arrived.map(\.position) == [resultA.positions[0], resultB.positions[0]])
        #expect(try await store.hasHeldBackEvents(after: arrived[1].checkpoint, filter: filter) == false)
    }

    @Test func cancellingTheConsumingTaskEndsTheFollowPromptly() async throws {
        let pool = try await TestDatabase.pool(for: "esfollow")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("cancel")
        try await store.append([event("First")], to: stream(category), expecting: .noStream, metadata: metadata())
        let collector = Collector(
            store.follow(filter: LogFilter(categories: [category]), fallbackPoll: .seconds(600)))
        #expect(try await collector.next(1).count == 1)
        // Now it sleeps on LISTEN with a ten-minute fallback poll: cancellation must end it.
        collector.task.cancel()
        #expect(await ends(collector.task), "the follower ended well before its fallback poll")
        let outcome = await collector.task.result
        #expect((try? outcome.get()) != nil, "a cancelled follow ends its sequence; it does not throw")
    }

    @Test func filtersKeepOnlyTheCategoriesAndTypesAsked() async throws {
        let pool = try await TestDatabase.pool(for: "esfollow")
        let store = EventStore(pool: pool)
        let wanted = uniqueCategory("want")
        let other = uniqueCategory("other")
        for type in ["Kept", "Dropped", "Kept"] {
            try await store.append([event(type)], to: stream(wanted), expecting: .noStream, metadata: metadata())
        }
        try await store.append([event("Kept")], to: stream(other), expecting: .noStream, metadata: metadata())
        _ = try await readAll(store, categories: [wanted, other], atLeast: 4)
        let events = try await allOf(
            store.follow(filter: LogFilter(categories: [wanted], types: ["Kept"]), mode: .untilCaughtUp)
        ).flatMap(\.events)
        #expect(events.count == 2)
        #expect(events.allSatisfy { $0.type == "Kept" && $0.stream.hasPrefix("\(wanted)-") })
        let byType = try await allOf(
            store.follow(filter: LogFilter(categories: [wanted, other], types: ["Dropped"]), mode: .untilCaughtUp)
        ).flatMap(\.events)
        #expect(byType.map(\.type) == ["Dropped"])
    }

    @Test func resumingFromACheckpointTokenNeverSkipsOrRepeats() async throws {
        let pool = try await TestDatabase.pool(for: "esfollow")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("resume")
        let filter = LogFilter(categories: [category])
        for i in 0..<30 {
            try await store.append(
                [event("Counted", i)], to: stream(category), expecting: .noStream, metadata: metadata())
        }
        let all = try await readAll(store, categories: [category], atLeast: 30).map(\.position)
        // A consumer reads two batches, keeps only the token (as a client keeps Last-Event-ID) …
        var seen: [Int64] = []
        var token = LogCheckpoint.start.token
        for try await batch in store.follow(filter: filter, batchSize: 7, mode: .untilCaughtUp) {
            seen += batch.events.map(\.position)
            token = batch.next.token
            if seen.count >= 14 { break }
        }
        // … and resumes from it, twice in a row at different points.
        let resumed = try #require(LogCheckpoint(token: token))
        var rest: [Int64] = []
        for try await batch in store.follow(after: resumed, filter: filter, batchSize: 5, mode: .untilCaughtUp) {
            rest += batch.events.map(\.position)
            token = batch.next.token
            if rest.count >= 5 { break }
        }
        let tail = try await allOf(
            store.follow(after: try #require(LogCheckpoint(token: token)), filter: filter, mode: .untilCaughtUp))
        let union = seen + rest + tail.flatMap(\.events).map(\.position)
        #expect(union == all, "every event exactly once, in order")
    }

    @Test func aCheckpointTokenRoundTripsAndGarbageIsRefused() {
        for checkpoint in [LogCheckpoint.start, LogCheckpoint(transactionID: 7_123_456_789, position: 42)] {
            #expect(LogCheckpoint(token: checkpoint.token) == checkpoint)
        }
        #expect(LogCheckpoint(transactionID: 12, position: 34).token == "12-34")
        for garbage in [
            "", "12", "12-", "-34", "12-34-5", "a-b", "+12-34", "12- 34", "١٢-٣٤", "99999999999999999999-1",
        ] {
            #expect(LogCheckpoint(token: garbage) == nil, "\(garbage)")
        }
    }

    @Test func anEventWithForeignMetadataIsFollowedAsStoredAndTheFollowGoesOn() async throws {
        let pool = try await TestDatabase.pool(for: "esfollow")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("foreign")
        // Another tool wrote metadata without `actor` (straight through ledger.append).
        let foreign = stream(category)
        try await pool.query(
            """
            SELECT ledger.append(\(UUID()), ARRAY[\(foreign.rawValue)]::text[], ARRAY[0]::bigint[], ARRAY[1]::int[],
                                 ARRAY['Imported']::text[], ARRAY[1]::int[], ARRAY['{"n": 1}'::jsonb],
                                 ARRAY['{"tool": "legacy-sync"}'::jsonb], ARRAY[NULL]::timestamptz[])
            """)
        try await store.append([event("Native")], to: stream(category), expecting: .noStream, metadata: metadata())
        _ = try await eventually {
            try await store.hasHeldBackEvents(after: .start, filter: LogFilter(categories: [category])) ? nil : true
        }
        let events = try await allOf(
            store.follow(filter: LogFilter(categories: [category]), mode: .untilCaughtUp)
        ).flatMap(\.events)
        try #require(events.map(\.type) == ["Imported", "Native"])
        #expect(String(decoding: events[0].metadata.data, as: UTF8.self).contains("legacy-sync"))
        let error = #expect(throws: EventStoreError.self) { try RecordedEvent(events[0]) }
        #expect(error?.code == .undecodableEvent)
        #expect(try RecordedEvent(events[1]).metadata.actor == "system")
        // readAll, which decodes, refuses the batch: following as stored is what lets readers go on.
        await #expect(throws: EventStoreError.self) {
            try await store.readAll(after: .start, limit: 100, categories: [category])
        }
    }

    @Test func theRetiredSubscriptionTableIsGone() async throws {
        let pool = try await TestDatabase.pool(for: "esfollow")
        #expect(
            try await pool.query("SELECT to_regclass('ledger.subscription_checkpoints') IS NULL").scalar(Bool.self))
    }
}
