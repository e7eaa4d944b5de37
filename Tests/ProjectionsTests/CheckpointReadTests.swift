import EventStore
import Foundation
import PQ
import Projections
import TestSupport
import Testing

/// Projector checkpoints are read one way: the pairs a reader waits on
/// (`ProjectionEngine.checkpoints(of:pool:)`) and the positions every query result carries come
/// from the same query, so they agree.
@Suite("One checkpoint read")
struct CheckpointReadTests {
    @Test func waitersAndResultsSeeTheSameCheckpoints() async throws {
        let pool = try await TestDatabase.fresh("checkpointread")
        let store = EventStore(pool: pool)
        let projectors: [any Projector] = [CompetitionByGigProjector(), CompetitionBySkillProjector()]
        let engine = ProjectionEngine(store: store, projectors: projectors, owner: "checkpoint-read-test")

        try await engine.prepare()
        // Nothing applied yet: the start of the log, for waiters and results alike.
        let before = try await ProjectionEngine.checkpoints(of: projectors, pool: pool)
        #expect(before == ["competition_gigs": .start, "competition_skills": .start])
        let empty = try await Competition(pool: pool).skillWeeks()
        #expect(empty.checkpoints.map(\.position) == [0, 0])

        var lastPosition: Int64 = 0
        for _ in 0..<3 {
            let result = try await store.append(
                [NewEvent(type: "Unrelated", data: PGJSON(text: "{}"))],
                to: try StreamName(validating: "thing-\(UUID().uuidString.lowercased())"),
                expecting: .noStream, metadata: EventMetadata(actor: "system", commandId: UUID()))
            lastPosition = result.positions.max() ?? lastPosition
        }
        // Other suites' open transactions may hold the last event back for a moment.
        let applied = try await eventually { () async throws -> [String: LogCheckpoint]? in
            _ = try await engine.catchUpAll()
            let now = try await ProjectionEngine.checkpoints(of: projectors, pool: pool)
            return now.values.allSatisfy { $0.position == lastPosition } ? now : nil
        }
        try await engine.releaseLeases()
        if applied == nil { Issue.record("not applied in time: \(await TestDatabase.horizonHolders(pool))") }
        let after = try #require(applied)
        let found: LogCheckpoint? = try await store.checkpoint(atPosition: lastPosition)
        let last = try #require(found)
        #expect(after["competition_gigs"] == last)
        #expect(after["competition_skills"] == last)
        #expect(last.transactionID > 0)
        let page = try await Competition(pool: pool).skillWeeks()
        #expect(page.checkpoints.map(\.projection) == ["competition_gigs", "competition_skills"])
        #expect(page.checkpoints.map(\.position) == [lastPosition, lastPosition])
    }
}
