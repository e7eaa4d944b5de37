import EventStore
import Foundation
import PQ
import Projections

/// `gigbench apply`: how fast each shipped projector applies a log that is already there (a
/// rebuild from position 0), against plain COPYs of the same events, in one run on one database.
///
/// Each projector is applied from zero into a scratch schema, in batches read gap-safe as the
/// engine reads them (one transaction per batch: read, apply; no checkpoint row), alone on the
/// machine. Baselines: COPY of `ledger.events` out to the client, and back in into a plain table.
enum ProjectorApplyBench {
    static func seconds(_ since: ContinuousClock.Instant) -> Double {
        let d = since.duration(to: .now)
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func run(config: ConnectionConfig, batches: [Int]) async throws {
        let pool = ConnectionPool(config: config, maxConnections: 2)
        let events = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        print("")
        print("| \(events) events | seconds | events/s |")
        print("|---|---:|---:|")
        // Baselines: COPY out, then COPY in (into a plain table, no index).
        var chunks: [Data] = []
        var t = ContinuousClock.now
        _ = try await pool.withConnection { conn in
            try await conn.copyOut("COPY ledger.events TO STDOUT") { chunks.append(Data($0)) }
        }
        let copyOut = seconds(t)
        print(
            String(
                format: "| baseline: COPY ledger.events TO STDOUT | %.2f | %.0f |", copyOut, Double(events) / copyOut))
        t = ContinuousClock.now
        try await pool.withConnection { conn in
            try await conn.execute("DROP TABLE IF EXISTS public.bench_events_copy")
            try await conn.execute("CREATE TABLE public.bench_events_copy (LIKE ledger.events)")
            try await conn.copyIn("COPY public.bench_events_copy FROM STDIN") { writer in
                for chunk in chunks { try writer.write(chunk) }
            }
            try await conn.execute("DROP TABLE public.bench_events_copy")
        }
        let copyIn = seconds(t)
        print(
            String(
                format: "| baseline: COPY FROM STDIN into a plain table | %.2f | %.0f |", copyIn,
                Double(events) / copyIn))
        chunks = []
        for batch in batches {
            // Reading alone (what the engine does before a projector sees a batch).
            t = ContinuousClock.now
            var checkpoint = LogCheckpoint.start
            while true {
                let read = try await pool.withTransaction {
                    try await EventStore.readAll(on: $0, after: checkpoint, limit: batch)
                }
                guard let last = read.last else { break }
                checkpoint = last.checkpoint
            }
            let reading = seconds(t)
            print(
                String(
                    format: "| read the log gap-safe, batches of %d (no projector) | %.2f | %.0f |", batch, reading,
                    Double(events) / reading))
            var total = 0.0
            var baseline = 0.0
            let eventByEvent: [any Projector] =
                batch == batches.first ? ShippedProjectors.all.map { EventByEvent(inner: $0) } : []
            for projector in eventByEvent + ShippedProjectors.all {
                let isBaseline = projector is EventByEvent
                try await pool.withConnection { conn in
                    try await conn.execute("DROP SCHEMA IF EXISTS bench_rebuild CASCADE")
                    try await conn.execute("CREATE SCHEMA bench_rebuild")
                }
                try await pool.withTransaction { conn in
                    try await conn.execute("SET LOCAL search_path TO bench_rebuild, read_models")
                    try await projector.prepare(on: conn)
                }
                t = ContinuousClock.now
                checkpoint = .start
                while true {
                    let applied: RecordedEvent? = try await pool.withTransaction { conn in
                        try await conn.execute("SET LOCAL search_path TO bench_rebuild, read_models")
                        let read = try await EventStore.readAll(on: conn, after: checkpoint, limit: batch)
                        try await projector.apply(batch: read, on: conn)
                        return read.last
                    }
                    guard let applied else { break }
                    checkpoint = applied.checkpoint
                }
                let elapsed = seconds(t)
                if isBaseline { baseline += elapsed } else { total += elapsed }
                print(
                    String(
                        format: "| %@ from zero, batches of %d%@ | %.2f | %.0f |", projector.name, batch,
                        isBaseline ? ", baseline: event by event" : "",
                        elapsed, Double(events) / elapsed))
            }
            if baseline > 0 {
                print(
                    String(
                        format: "| all four one after another, batches of %d, baseline: event by event | %.2f | %.0f |",
                        batch, baseline, Double(events) / baseline))
            }
            print(
                String(
                    format: "| all four projectors one after another, batches of %d | %.2f | %.0f |", batch, total,
                    Double(events) / total))
        }
        _ = try await pool.withConnection { try await $0.execute("DROP SCHEMA IF EXISTS bench_rebuild CASCADE") }
        await pool.close()
    }
}
