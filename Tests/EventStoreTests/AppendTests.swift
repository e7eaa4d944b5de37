import EventStore
import Foundation
import PQ
import TestSupport
import Testing

@Suite("Appending: expectations, atomicity, idempotency")
struct AppendTests {
    func store() async throws -> EventStore {
        EventStore(pool: try await TestDatabase.pool(for: "esappend", maxConnections: 10))
    }

    @Test func appendReturnsVersionsAndPositions() async throws {
        let store = try await store()
        let s = stream(uniqueCategory())
        let first = try await store.append(
            [event("A", 1), event("B", 2)], to: s, expecting: .noStream, metadata: metadata())
        #expect(first.version(of: s) == 2)
        #expect(first.events.map(\.version) == [1, 2])
        #expect(first.duplicate == false)
        #expect(first.positions[0] < first.positions[1])
        let second = try await store.append([event("C", 3)], to: s, expecting: .exactly(2), metadata: metadata())
        #expect(second.version(of: s) == 3)
        #expect(try await store.streamVersion(s) == 3)
        let third = try await store.append([event("D", 4)], to: s, expecting: .streamExists, metadata: metadata())
        #expect(third.version(of: s) == 4)
        let fourth = try await store.append([event("E", 5)], to: s, expecting: .any, metadata: metadata())
        #expect(fourth.version(of: s) == 5)
    }

    @Test(arguments: [
        (ExpectedVersion.noStream, true), (.exactly(1), true), (.exactly(3), false), (.streamExists, true),
        (.any, true),
    ])
    func expectationsAgainstANewStream(expected: ExpectedVersion, existingStream: Bool) async throws {
        let store = try await store()
        let s = stream(uniqueCategory())
        if existingStream {
            try await store.append([event()], to: s, expecting: .noStream, metadata: metadata())
        }
        let shouldWin: Bool =
            switch (expected, existingStream) {
            case (.any, _): true
            case (.noStream, let exists): !exists
            case (.streamExists, let exists): exists
            case (.exactly(let v), let exists): exists && v == 1
            }
        do {
            try await store.append([event()], to: s, expecting: expected, metadata: metadata())
            #expect(shouldWin)
        } catch {
            #expect(!shouldWin)
            #expect(error.code == .wrongExpectedVersion)
            #expect(error.conflict?.stream == s)
            #expect(error.conflict?.expected == expected)
            #expect(error.conflict?.actual == (existingStream ? 1 : 0))
            #expect(error.message.contains(s.rawValue))
        }
    }

    @Test func ofTwoAppendsExpectingTheSameVersionExactlyOneWins() async throws {
        let store = try await store()
        let s = stream(uniqueCategory())
        try await store.append([event()], to: s, expecting: .noStream, metadata: metadata())
        let outcomes = await withTaskGroup(of: Result<AppendResult, EventStoreError>.self) { group in
            for i in 0..<2 {
                group.addTask {
                    do {
                        return .success(
                            try await store.append(
                                [event("Raced", i)], to: s, expecting: .exactly(1), metadata: metadata()))
                    } catch let error as EventStoreError { return .failure(error) } catch {
                        return .failure(EventStoreError(.database, "\(error)"))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let wins = outcomes.compactMap { try? $0.get() }
        let losses = outcomes.compactMap { if case .failure(let e) = $0 { e } else { nil } }
        #expect(wins.count == 1)
        #expect(losses.count == 1)
        #expect(losses.first?.code == .wrongExpectedVersion)
        #expect(losses.first?.conflict == EventStoreError.Conflict(stream: s, expected: .exactly(1), actual: 2))
        #expect(try await store.streamVersion(s) == 2)
    }

    @Test func eightWritersOnOneStreamGiveContiguousVersions() async throws {
        let store = try await store()
        let s = stream(uniqueCategory())
        let perWriter = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for n in 0..<perWriter {
                        // Read, decide, append with the version read; on conflict re-read.
                        while true {
                            let version = try await store.streamVersion(s)
                            do {
                                try await store.append(
                                    [event("Written", writer * 1000 + n)], to: s,
                                    expecting: version.map { .exactly($0) } ?? .noStream, metadata: metadata())
                                break
                            } catch let error as EventStoreError where error.code == .wrongExpectedVersion {
                                continue
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = try await store.readStream(s, limit: 10_000)
        #expect(events.map(\.version) == Array(1...Int64(8 * perWriter)))
        let payloads = Set(events.map(\.data.text))
        #expect(payloads.count == 8 * perWriter)
        #expect(Set(events.map(\.position)).count == events.count)
    }

    @Test func concurrentCreatorsOfANewStreamGetATypedConflict() async throws {
        let store = try await store()
        for _ in 0..<5 {
            let s = stream(uniqueCategory())
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        do {
                            try await store.append([event()], to: s, expecting: .noStream, metadata: metadata())
                            return true
                        } catch let error as EventStoreError {
                            #expect(error.code == .wrongExpectedVersion)
                            #expect(error.conflict?.actual == 1)
                            return false
                        } catch {
                            Issue.record(error)
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
        }
    }

    @Test func multiStreamAppendIsAtomic() async throws {
        let store = try await store()
        let category = uniqueCategory()
        let gig = stream(category)
        let contract = stream(category)
        try await store.append([event("GigPosted")], to: gig, expecting: .noStream, metadata: metadata())
        // The contract stream's expectation fails: the gig's events must not be stored either.
        let request = AppendRequest(
            metadata: metadata(),
            streams: [
                StreamAppend(stream: gig, expected: .exactly(1), events: [event("BidAccepted")]),
                StreamAppend(stream: contract, expected: .exactly(5), events: [event("ContractStarted")]),
            ])
        let error = await #expect(throws: EventStoreError.self) { try await store.append(request) }
        #expect(error?.conflict?.stream == contract)
        #expect(try await store.streamVersion(gig) == 1)
        #expect(try await store.streamVersion(contract) == nil)
        // With the right expectations both land, in one transaction.
        let ok = AppendRequest(
            metadata: metadata(),
            streams: [
                StreamAppend(stream: contract, expected: .noStream, events: [event("ContractStarted")]),
                StreamAppend(stream: gig, expected: .exactly(1), events: [event("BidAccepted"), event("GigAwarded")]),
            ])
        let result = try await store.append(ok)
        #expect(result.version(of: gig) == 3)
        #expect(result.version(of: contract) == 1)
        let stored = try await store.readStream(gig)
        let contractEvents = try await store.readStream(contract)
        #expect(stored.last?.transactionID == contractEvents.first?.transactionID)
    }

    @Test func sameCommandIdFromEightTasksAppendsOnce() async throws {
        let store = try await store()
        let s = stream(uniqueCategory())
        let commandId = UUID()
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await store.append([event("Once")], to: s, expecting: .any, metadata: metadata(commandId))
                }
            }
            return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
        }
        #expect(results.count == 8)
        #expect(results.filter { !$0.duplicate }.count == 1)
        #expect(Set(results.map(\.positions)).count == 1)
        #expect(Set(results.map { $0.version(of: s) }) == [1])
        #expect(try await store.readStream(s).count == 1)
    }

    @Test func repeatingACommandWhoseReplyWasLostAppendsNothing() async throws {
        let store = try await store()
        let s = stream(uniqueCategory())
        let commandId = UUID()
        let first = try await store.append(
            [event("Paid", 1)], to: s, expecting: .noStream, metadata: metadata(commandId))
        // The client never saw `first` and retries — even with an expectation that would now fail.
        let retry = try await store.append(
            [event("Paid", 1)], to: s, expecting: .noStream, metadata: metadata(commandId))
        #expect(retry.duplicate)
        #expect(retry.positions == first.positions)
        #expect(retry.streams == first.streams)
        #expect(try await store.streamVersion(s) == 1)
    }

    @Test func malformedAppendsAreRefusedAndStoreNothing() async throws {
        let store = try await store()
        let s = stream(uniqueCategory())
        let badType = await #expect(throws: EventStoreError.self) {
            try await store.append([event("not-camel case")], to: s, expecting: .any, metadata: metadata())
        }
        #expect(badType?.code == .invalidAppend)
        #expect(badType?.message.contains("events_event_type_format") == true)
        let notObject = await #expect(throws: EventStoreError.self) {
            try await store.append(
                [NewEvent(type: "Listy", data: PGJSON(text: "[1,2]"))], to: s, expecting: .any, metadata: metadata())
        }
        #expect(notObject?.code == .invalidAppend)
        let empty = await #expect(throws: EventStoreError.self) {
            try await store.append([], to: s, expecting: .any, metadata: metadata())
        }
        #expect(empty?.code == .invalidAppend)
        let badVersion = await #expect(throws: EventStoreError.self) {
            try await store.append([event(schemaVersion: 0)], to: s, expecting: .any, metadata: metadata())
        }
        #expect(badVersion?.code == .invalidAppend)
        #expect(throws: EventStoreError.self) { try StreamName(validating: "Gig 1") }
        #expect(throws: EventStoreError.self) { try StreamName(validating: "gig-") }
        #expect(throws: EventStoreError.self) { try StreamName(validating: "gig-x'; DROP TABLE ledger.events; --") }
        #expect(try await store.streamVersion(s) == nil)
    }

    @Test func readStreamForwardAndBackwardWithLimits() async throws {
        let store = try await store()
        let s = stream(uniqueCategory())
        try await store.append((1...10).map { event("Step", $0) }, to: s, expecting: .noStream, metadata: metadata())
        #expect(try await store.readStream(s, from: 4, limit: 3).map(\.version) == [4, 5, 6])
        #expect(try await store.readStream(s, direction: .backward, limit: 2).map(\.version) == [10, 9])
        #expect(try await store.readStream(s, from: 3, direction: .backward, limit: 5).map(\.version) == [3, 2, 1])
        let one = try #require(try await store.readStream(s, from: 7, limit: 1).first)
        #expect(one.type == "Step")
        #expect(one.data.text.contains("7"))
        #expect(one.metadata.actor == "system")
        #expect(one.stream == s)
    }
}

@Suite("Appending under a non-byte collation")
struct CollationTests {
    @Test func multiStreamAppendsWorkWhenTheDatabaseSortsTextOtherwise() async throws {
        // In en-US, "gig-a…" sorts before "gig-B…"; in byte order (how clients sort) after.
        let pool = try await TestDatabase.freshWithCollation("icu", icuLocale: "en-US")
        _ = try await pool.withConnection { try await Migrator().migrate(on: $0) }
        #expect(try await pool.query("SELECT 'gig-B' < 'gig-a'").scalar(Bool.self) == false)
        let store = EventStore(pool: pool)
        let upper = try StreamName(validating: "gig-B\(UInt32.random(in: 0...UInt32.max))")
        let lower = try StreamName(validating: "gig-a\(UInt32.random(in: 0...UInt32.max))")
        let result = try await store.append(
            AppendRequest(
                metadata: metadata(),
                streams: [
                    StreamAppend(stream: lower, expected: .noStream, events: [event("A")]),
                    StreamAppend(stream: upper, expected: .noStream, events: [event("B")]),
                ]))
        #expect(result.version(of: upper) == 1)
        #expect(result.version(of: lower) == 1)
        await pool.close()
    }
}
