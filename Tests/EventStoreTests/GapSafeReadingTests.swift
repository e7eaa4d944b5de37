import Foundation
import PQ
import TestSupport
import Testing

@testable import EventStore

@Suite("Gap-safe reading of the whole log")
struct GapSafeReadingTests {
    @Test func aReaderNeverPassesAnOpenTransaction() async throws {
        let pool = try await TestDatabase.pool(for: "esgap")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("gap")
        // Transaction A appends and stays open.
        let connectionA = try await Connection.connect(pool.config)
        try await connectionA.executeScript("BEGIN")
        let requestA = AppendRequest(
            metadata: metadata(),
            streams: [StreamAppend(stream: stream(category), expected: .noStream, events: [event("FromA")])])
        let resultA = try AppendResult(
            json: try await connectionA.query(EventStore.appendStatement(requestA)).scalar(PGJSON.self))
        // Transaction B appends after A (higher position) and commits.
        let resultB = try await store.append(
            [event("FromB")], to: stream(category), expecting: .noStream, metadata: metadata())
        #expect(resultA.positions[0] < resultB.positions[0])

        // While A is open, B's event is committed but must not be returned.
        let whileOpen = try await store.readAll(after: .start, limit: 100, categories: [category])
        #expect(whileOpen.events.isEmpty)
        let checkpointInBetween = whileOpen.next

        try await connectionA.executeScript("COMMIT")
        await connectionA.close()

        let after = try await readAll(store, categories: [category], atLeast: 2, after: checkpointInBetween)
        try #require(after.count == 2, "both events readable once A committed")
        #expect(after.map(\.type) == ["FromA", "FromB"])
        #expect(after[0].position < after[1].position)
        // Reading from the start gives the same, in the same order.
        let fromStart = try await readAll(store, categories: [category], atLeast: 2)
        #expect(fromStart.map(\.position) == after.map(\.position))
    }

    @Test func anOlderTransactionCommittingAHigherPositionIsNotSkipped() async throws {
        let pool = try await TestDatabase.pool(for: "esgap")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("gap")
        // A takes a transaction id first but appends last: its event gets the higher position.
        let connectionA = try await Connection.connect(pool.config)
        try await connectionA.executeScript("BEGIN")
        _ = try await connectionA.query("SELECT pg_current_xact_id()")
        let resultB = try await store.append(
            [event("FromB")], to: stream(category), expecting: .noStream, metadata: metadata())
        let requestA = AppendRequest(
            metadata: metadata(),
            streams: [StreamAppend(stream: stream(category), expected: .noStream, events: [event("FromA")])])
        let resultA = try AppendResult(
            json: try await connectionA.query(EventStore.appendStatement(requestA)).scalar(PGJSON.self))
        #expect(resultA.positions[0] > resultB.positions[0])
        // B committed, but A (older) is open: a reader that returned B and moved its checkpoint
        // past position(B) by position alone would later skip A. Gap-safe reading holds B back.
        let whileOpen = try await store.readAll(after: .start, limit: 100, categories: [category])
        #expect(whileOpen.events.isEmpty)
        try await connectionA.executeScript("COMMIT")
        await connectionA.close()
        let events = try await readAll(store, categories: [category], atLeast: 2, after: whileOpen.next)
        #expect(Set(events.map(\.type)) == ["FromA", "FromB"])
        #expect(events.first?.type == "FromA")
    }

    @Test func batchesResumeFromTheirCheckpointWithoutLossOrRepeat() async throws {
        let pool = try await TestDatabase.pool(for: "esgap")
        let store = EventStore(pool: pool)
        let category = uniqueCategory("page")
        for i in 0..<25 {
            try await store.append(
                [event("Paged", i)], to: stream(category), expecting: .noStream, metadata: metadata())
        }
        _ = try await readAll(store, categories: [category], atLeast: 25)
        var cursor = LogCheckpoint.start
        var seen: [Int64] = []
        while true {
            let batch = try await store.readAll(after: cursor, limit: 4, categories: [category])
            if batch.events.isEmpty { break }
            #expect(batch.events.count <= 4)
            seen += batch.events.map(\.position)
            cursor = batch.next
        }
        #expect(seen.count == 25)
        #expect(Set(seen).count == 25)
        let typed = try await store.readAll(after: .start, limit: 100, categories: [category], types: ["Nope"])
        #expect(typed.events.isEmpty)
    }
}
