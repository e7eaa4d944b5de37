import ArgumentParser
import EventStore
import Foundation
import PQ
import TestSupport
import Testing

@testable import GigCTLCore

@Suite("gigctl log tail shows every event, also one it cannot decode")
struct LogTailTests {
    func exitCode(_ arguments: [String]) async -> Int32 {
        do {
            let command = try GigCTL.parseAsRoot(arguments)
            guard let runnable = command as? any AsyncParsableCommand else { return 70 }
            try await run(runnable)
            return 0
        } catch {
            return GigCTL.exitCode(for: error).rawValue
        }
    }

    private func run<C: AsyncParsableCommand>(_ command: C) async throws {
        var copy = command
        try await copy.run()
    }

    func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func anEventWithForeignMetadataIsPrintedAsStoredAndTheTailGoesOn() async throws {
        let pool = try await TestDatabase.fresh("clitail")
        let store = EventStore(pool: pool)
        // Another tool wrote metadata without `actor` (straight through ledger.append) …
        let foreign = try StreamName(validating: "import-\(UUID().uuidString.lowercased())")
        try await pool.query(
            """
            SELECT ledger.append(\(UUID()), ARRAY[\(foreign.rawValue)]::text[], ARRAY[0]::bigint[], ARRAY[1]::int[],
                                 ARRAY['Imported']::text[], ARRAY[1]::int[], ARRAY['{"n": 1}'::jsonb],
                                 ARRAY['{"tool": "legacy-sync"}'::jsonb], ARRAY[NULL]::timestamptz[])
            """)
        // … and GigLedger wrote one after it.
        try await store.append(
            [NewEvent(type: "Native", data: PGJSON(text: "{}"))],
            to: try StreamName(validating: "thing-\(UUID().uuidString.lowercased())"), expecting: .noStream,
            metadata: EventMetadata(actor: "system", commandId: UUID()))
        _ = try await eventually { try await store.hasHeldBackEvents(after: .start) ? nil : true }

        let db = ["--database-url", pool.config.target]
        #expect(await exitCode(["log", "tail", "--from", "1"] + db) == 0)
        #expect(await exitCode(["log", "tail", "--from", "1", "--json"] + db) == 0)
        #expect(await exitCode(["log", "tail", "--lines", "5", "--type", "Imported", "--json"] + db) == 0)

        // What it prints for each: the foreign one as stored, with why; the native one as before.
        var printed: [[String: Any]] = []
        for try await batch in store.follow(mode: .untilCaughtUp) {
            for event in batch.events { printed.append(try object(EventView(event).jsonLine)) }
        }
        try #require(printed.count == 2)
        let raw = printed[0]
        #expect(raw["type"] as? String == "Imported")
        #expect(raw["stream"] as? String == foreign.rawValue)
        #expect(raw["position"] as? Int == 1)
        #expect((raw["metadata"] as? [String: Any])?["tool"] as? String == "legacy-sync")
        #expect((raw["data"] as? [String: Any])?["n"] as? Int == 1)
        #expect((raw["undecodable"] as? String)?.contains("metadata") == true)
        #expect(raw["actor"] == nil)
        let native = printed[1]
        #expect(native["type"] as? String == "Native")
        #expect(native["actor"] as? String == "system")
        #expect(native["undecodable"] == nil && native["metadata"] == nil)
    }
}
