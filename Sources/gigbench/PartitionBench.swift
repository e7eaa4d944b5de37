import EventStore
import Foundation
import PQ

/// `gigbench partitions`: the append rate and the gap-safe read rate of a partitioned log
/// (migration 0012) against an unpartitioned one (the migrations before it), in the same run on
/// the same server: two databases, the same writers and payloads, measured alternately round by
/// round so that a change in the machine's load hits both.
enum PartitionBench {
    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(
            separator: " ") ?? "?"
    }

    /// A fresh database migrated up to (not including) `before`, or fully.
    static func database(_ name: String, base: ConnectionConfig, migrationsBefore before: Int?) async throws
        -> ConnectionPool
    {
        let admin = try await Connection.connect(base.withDatabase("postgres"))
        try await admin.execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
        try await admin.execute("CREATE DATABASE \(identifier: name)")
        await admin.close()
        let pool = ConnectionPool(config: base.withDatabase(name), maxConnections: 9)
        let migrations = Migration.embedded.filter { $0.version < (before ?? Int.max) }
        _ = try await pool.withConnection { try await Migrator(migrations: migrations).migrate(on: $0) }
        return pool
    }

    static func run(config base: ConnectionConfig, seconds: Double, writers: Int, partitionSize: Int64, rounds: Int)
        async throws
    {
        let flat = try await database("gigledger_bench_flat", base: base, migrationsBefore: 12)
        let parted = try await database("gigledger_bench_parted", base: base, migrationsBefore: nil)
        // Partitions of `partitionSize` positions from position 1, eight made ahead (enough for a short run; an append past them would fail).
        try await parted.withTransaction { conn in
            for row in try await conn.query("SELECT partition_name FROM ledger.event_partitions").rows {
                let name = try row.decode(String.self, at: 0)
                try await conn.execute("DROP TABLE ledger.\(identifier: name)")
            }
            try await conn.execute("DELETE FROM ledger.event_partitions")
            try await conn.execute(
                "UPDATE ledger.event_partitioning SET partition_size = \(partitionSize), partitions_ahead = \(Int32(8))"
            )
            try await conn.execute("SELECT count(*) FROM ledger.prepare_partitions()")
        }
        let stores = [("unpartitioned", EventStore(pool: flat)), ("partitioned", EventStore(pool: parted))]
        let loadBefore = loadAverage()
        var appendRates: [String: [Double]] = [:]
        var readRates: [String: [Double]] = [:]
        for round in 0..<rounds {
            for (label, store) in stores {
                let versions = Versions()
                let rate = try await measure(writers: writers, seconds: seconds) { writer, n in
                    let stream = try StreamName(validating: "bid-w\(writer)r\(round)")
                    let current = await versions.next(stream.rawValue, by: 1)
                    try await store.append(
                        [NewEvent(type: "BidPlaced", data: payload(n), occurredAt: Date())], to: stream,
                        expecting: current == 0 ? .noStream : .exactly(current),
                        metadata: EventMetadata(actor: "freelancer:bench", commandId: UUID()))
                }
                appendRates[label, default: []].append(rate)
            }
            for (label, store) in stores {
                let clock = ContinuousClock()
                let start = clock.now
                var cursor = LogCheckpoint.start
                var events = 0
                while true {
                    let batch = try await store.readAll(after: cursor, limit: 1000)
                    if batch.events.isEmpty { break }
                    events += batch.events.count
                    cursor = batch.next
                }
                let elapsed = clock.now - start
                readRates[label, default: []].append(
                    Double(events)
                        / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            }
        }
        let loadAfter = loadAverage()
        let partitions = try await parted.query(
            "SELECT count(DISTINCT tableoid)::int8 FROM ledger.events"
        ).scalar(Int64.self)
        let total = try await parted.query("SELECT count(*)::int8 FROM ledger.events").scalar(Int64.self)
        let version = try await parted.query("SELECT current_setting('server_version')").scalar(String.self)
        print(
            "PostgreSQL \(version); \(writers) writers, \(Int(seconds)) s per append round, \(rounds) rounds alternating;"
        )
        print(
            "partitioned log: \(total) events over \(partitions) partitions of \(partitionSize) positions; load average \(loadBefore) before, \(loadAfter) after."
        )
        print("")
        print("| log | appends/s (per round) | gap-safe read, events/s (whole log, batches of 1000, per round) |")
        print("|---|---|---|")
        for (label, _) in stores {
            let appends = appendRates[label, default: []].map { String(format: "%.0f", $0) }.joined(separator: ", ")
            let reads = readRates[label, default: []].map { String(format: "%.0f", $0) }.joined(separator: ", ")
            print("| \(label) | \(appends) | \(reads) |")
        }
        await flat.close()
        await parted.close()
    }
}
