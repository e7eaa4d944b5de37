import EventStore
import Foundation
import PQ
import Projections
import Synchronization

/// `gigbench rebuild`: rebuilding every projection from position 0 over an existing log (fill one
/// with `gigctl simulate --scale large`), side by side in the same run with a plain COPY of the
/// same events through the same libpq layer; plus the rebuild process's memory as it goes.
enum RebuildBench {
    /// Resident and peak resident memory of this process, in MiB (Linux /proc).
    static func memory() -> (rss: Double, peak: Double) {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (.nan, .nan) }
        func field(_ name: String) -> Double {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return .nan }
            return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? .nan) / 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// COPY of the events in log order (the columns a projector reads), counted and dropped.
    static func copyRate(_ pool: ConnectionPool) async throws -> (events: Int, seconds: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let bytes = Atomic<Int>(0)
        let rows = try await pool.withConnection { conn in
            try await conn.copyOut(
                """
                COPY (SELECT global_position, transaction_id, stream_id, stream_version, event_type, schema_version, data, metadata,
                             occurred_at, recorded_at
                      FROM ledger.events ORDER BY transaction_id, global_position) TO STDOUT
                """
            ) { chunk in bytes.add(chunk.count, ordering: .relaxed) }
        }
        let elapsed = clock.now - start
        return (rows, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// `folding`: the rebuild's default path (folds inside PostgreSQL, then batches) or batches
    /// only (`--no-fold`). `grow`: first grow the log to that many events with copies of that
    /// export (`--source FILE --events N`, as `gigbench scale` grows its log).
    static func run(
        config base: ConnectionConfig, database: String, batchSize: Int, folding: Bool, grow: (String, Int)?
    ) async throws {
        let pool = ConnectionPool(config: base.withDatabase(database), maxConnections: 3)
        _ = try await pool.withConnection { try await Migrator().migrate(on: $0) }
        if let (path, size) = grow {
            try await ScaleBench.grow(EventStore(pool: pool), source: try ScaleBench.load(path), to: size)
        }
        let events = try await pool.query("SELECT count(*)::int8 FROM ledger.events").scalar(Int64.self)
        let version = try await pool.query("SELECT current_setting('server_version')").scalar(String.self)
        if events < 1_000_000 {
            FileHandle.standardError.write(
                Data(
                    "note: \(database) holds \(events) events; the issue asks for at least 1,000,000 (gigctl simulate --scale large)\n"
                        .utf8))
        }
        FileHandle.standardError.write(Data("COPY baseline over \(events) events ...\n".utf8))
        let before = try await copyRate(pool)
        let engine = ProjectionEngine(
            store: EventStore(pool: pool), projectors: ShippedProjectors.all, owner: "gigbench", batchSize: batchSize)
        let samples = Mutex<[(Int64, Double)]>([])
        let nextSample = Mutex<Int64>(0)
        let memoryBefore = memory()
        let tempBytes: SQL = "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()"
        let tempBefore = try await pool.query(tempBytes).scalar(Int64.self)
        let clock = ContinuousClock()
        let start = clock.now
        let reports = try await engine.rebuild(ShippedProjectors.all, restart: true, folding: folding) { progress in
            let due = nextSample.withLock { next -> Bool in
                guard progress.eventsDone >= next else { return false }
                next = progress.eventsDone + max(1, progress.eventsTotal / 10)
                return true
            }
            if due {
                let rss = memory().rss
                samples.withLock { $0.append((progress.eventsDone, rss)) }
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "  rebuild: %lld / %lld events, RSS %.1f MiB\n", progress.eventsDone,
                            progress.eventsTotal, rss
                        ).utf8))
            }
        }
        let elapsed = clock.now - start
        let rebuildSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let memoryAfter = memory()
        let tempWritten = try await pool.query(tempBytes).scalar(Int64.self) - tempBefore
        FileHandle.standardError.write(Data("COPY baseline again ...\n".utf8))
        let after = try await copyRate(pool)
        await pool.close()

        let copyRate = Double(before.events + after.events) / (before.seconds + after.seconds)
        let rebuildRate = Double(events) / rebuildSeconds
        print(
            "### gigbench rebuild — \(database), \(events) events, batch \(batchSize), PostgreSQL \(version), \(ISO8601DateFormatter().string(from: Date()))"
        )
        print("")
        print("| what | events | seconds | events/s | ÷ COPY |")
        print("|---|---:|---:|---:|---:|")
        print(
            String(
                format:
                    "| COPY (SELECT … FROM ledger.events ORDER BY log order) TO STDOUT, before | %d | %.1f | %.0f | |",
                before.events, before.seconds, Double(before.events) / before.seconds))
        print(
            String(
                format: "| same COPY, after | %d | %.1f | %.0f | |", after.events, after.seconds,
                Double(after.events) / after.seconds))
        print(
            String(
                format: "| rebuild of all %d projections (%@, shadow tables, swap) | %lld | %.1f | %.0f | %.3f |",
                reports.count,
                folding ? "folded inside PostgreSQL, two at a time, then batches" : "batches only (--no-fold)",
                events, rebuildSeconds, rebuildRate, rebuildRate / copyRate))
        print("")
        print(
            "Events folded per projection: "
                + reports.map { "\($0.projector) \($0.eventsFolded)" }.joined(separator: ", ")
                + String(format: "; server temporary files written: %.0f MiB.", Double(tempWritten) / 1_048_576))
        print("")
        print(
            "Memory of the rebuilding process (MiB): before \(String(format: "%.1f", memoryBefore.rss)) resident; "
                + "during the rebuild, resident at each tenth of the log: "
                + samples.withLock { $0.map { String(format: "%.1f", $0.1) }.joined(separator: ", ") }
                + String(format: "; peak (VmHWM) %.1f.", memoryAfter.peak))
    }
}
