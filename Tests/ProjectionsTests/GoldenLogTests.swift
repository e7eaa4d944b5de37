import EventStore
import Foundation
import PQ
import Projections
import TestSupport
import Testing

/// Old history replays forever: the golden log (`Tests/Fixtures/golden-log-v1.ndjson`, written
/// before any event changed shape) is imported into an empty database, every shipped projector
/// builds its read model from it, and each table and view must equal the digest recorded for
/// that projector version in `Tests/Fixtures/golden-log-v1.digests.json`.
///
/// A new projector version has no digest yet: the test fails naming it. Record it with
/// `GOLDEN_LOG_RECORD=1 swift test --skip-build --filter GoldenLogTests`, which adds the digests
/// of projector versions the file lacks and never changes a recorded one (those are history).
@Suite("Golden log: a v1 log imported and projected gives the recorded read models")
struct GoldenLogTests {
    static let fixtures = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../Fixtures")
    static let log = fixtures.appending(path: "golden-log-v1.ndjson")
    static let digestsFile = fixtures.appending(path: "golden-log-v1.digests.json")

    /// Per projector version (`name vN`), per table or view: its rows and their digest.
    struct Digests: Codable, Equatable {
        var projectors: [String: [String: Relation]]
    }

    struct Relation: Codable, Equatable {
        var rows: Int
        var md5: String
    }

    /// Every row of `relation` as text, in byte order, in UTC and with shortest-exact floats, so
    /// the digest does not depend on the session's time zone, collation or float settings.
    static func digest(_ relation: String, schema: String = "read_models", _ pool: ConnectionPool) async throws
        -> Relation
    {
        try await pool.withTransaction { conn in
            try await conn.execute("SET LOCAL TimeZone TO 'UTC'")
            try await conn.execute("SET LOCAL DateStyle TO 'ISO, YMD'")
            try await conn.execute("SET LOCAL extra_float_digits TO 1")
            let row = try await conn.query(
                """
                SELECT count(*)::int8 AS n,
                       coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE "C")), 'empty') AS md5
                FROM \(identifier: schema).\(identifier: relation) t
                """
            ).rows[0]
            return Relation(rows: Int(try row.decode(Int64.self, "n")), md5: try row.decode(String.self, "md5"))
        }
    }

    static func digests(_ pool: ConnectionPool) async throws -> Digests {
        var out = Digests(projectors: [:])
        for projector in ShippedProjectors.all {
            var relations: [String: Relation] = [:]
            for relation in projector.tables + projector.views {
                relations[relation] = try await digest(relation, pool)
            }
            out.projectors["\(projector.name) v\(projector.version)"] = relations
        }
        return out
    }

    @Test func theGoldenLogReplaysToTheRecordedReadModels() async throws {
        let pool = try await TestDatabase.fresh("goldenlog")
        let store = EventStore(pool: pool)
        let bytes = try Data(contentsOf: Self.log)
        let report = try await store.importLog { writer in try writer.write(bytes) }
        #expect(report.events == 702)
        let types = try await pool.query("SELECT count(DISTINCT event_type)::int8 FROM ledger.events").scalar(
            Int64.self)
        #expect(types == 22, "the golden log holds every v1 event type")

        // Built from position 0 live, then rebuilt in shadow schemas and swapped in: both equal.
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "golden")
        try await engine.prepare()
        // Other suites' open transactions on the same server may hold the gap-safe horizon back
        // for a moment (catchUpAll then stops short): catch up until the whole log is read.
        let deadline = ContinuousClock.now.advanced(by: .seconds(120))
        repeat {
            try await engine.catchUpAll()
        } while try await engine.status().contains(where: { $0.checkpoint < report.headPosition })
            && ContinuousClock.now < deadline
        for status in try await engine.status() {
            #expect(status.checkpoint == report.headPosition, "\(status.name) v\(status.version) read the whole log")
            #expect(status.state == "running", "\(status.name) v\(status.version) did not stop at an event")
        }
        let live = try await Self.digests(pool)
        _ = try await engine.rebuild(ShippedProjectors.all)
        #expect(try await Self.digests(pool) == live, "a rebuild gives the same read models as the live build")

        var recorded = try JSONDecoder().decode(Digests.self, from: try Data(contentsOf: Self.digestsFile))
        let record = ProcessInfo.processInfo.environment["GOLDEN_LOG_RECORD"] == "1"
        var added: [String] = []
        for (projector, relations) in live.projectors.sorted(by: { $0.key < $1.key }) {
            guard let expected = recorded.projectors[projector] else {
                if record {
                    recorded.projectors[projector] = relations
                    added.append(projector)
                } else {
                    Issue.record(
                        "No digests recorded for projector \(projector): record them with GOLDEN_LOG_RECORD=1 swift test --skip-build --filter GoldenLogTests"
                    )
                }
                continue
            }
            for (relation, digest) in expected.sorted(by: { $0.key < $1.key }) {
                #expect(
                    relations[relation] == digest,
                    "\(projector) \(relation): the golden log no longer projects to the recorded rows")
            }
            // A relation added beside the recorded ones (they are unchanged, so the version is
            // too) is recorded once; a recorded one is never overwritten.
            let new = relations.filter { expected[$0.key] == nil }
            if record, !new.isEmpty {
                recorded.projectors[projector]?.merge(new) { old, _ in old }
                added.append(projector)
                continue
            }
            #expect(Set(relations.keys) == Set(expected.keys), "\(projector) writes the tables it was recorded with")
        }
        if !added.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try (try encoder.encode(recorded) + Data("\n".utf8)).write(to: Self.digestsFile)
        }
        #expect(!recorded.projectors.isEmpty)
    }
}
