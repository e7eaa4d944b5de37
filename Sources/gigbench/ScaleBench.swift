import EventStore
import Foundation
import PQ
import Projections
import Simulation

/// `gigbench scale`: one log grown to each of the given sizes (e.g. 1M, then 10M events) from
/// copies of a simulated market (a `gigctl export` of `gigctl simulate`), and at each size, each
/// figure beside its baseline measured in the same run on the same database:
///
/// - appends/s of `EventStore.append` (8 writers, one event each, durable) ÷ a raw INSERT of the
///   same payload into a plain table from the same 8 writers through the same `PQ` layer;
/// - gap-safe read events/s (`readStored`, batches of 1000, a window from the middle of the log)
///   ÷ a plain SELECT paged by position over the same window, decoded the same way;
/// - rebuild events/s of every projection (`ProjectionEngine.rebuild`) ÷ COPY out of the same rows;
/// - p50/p99 of matching candidates, competition of a gig, price trends and a stream read by id;
/// - disk size of the database and the log.
///
/// Copy 0 holds the source's values as they are. Copy k > 0 is a market of its own: what the score and the price
/// series depend on (levels, rates, hours, budgets, bids, ratings) varied from (k, entity id) by
/// `MarketCopies` (with `twins`, not: copies are the source's values, as before), then every
/// UUID's first four hex digits replaced by k (so streams, ids and command ids are its own) and its
/// positions shifted by k × the source's head; each copy is loaded with `EventStore.importLog`
/// (COPY, one transaction per copy).
enum ScaleBench {
    struct Source {
        let lines: [ArraySlice<UInt8>]
        let head: Int64
        /// nil: copies are twins of the source (`--twins`).
        let copies: MarketCopies?
    }

    static func load(_ path: String, twins: Bool = false) throws -> Source {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchError("cannot read \(path): make it with gigctl simulate, then gigctl export")
        }
        let bytes = [UInt8](data)
        let lines = bytes.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty }
        let head = lines.compactMap { position(in: $0) }.max() ?? 0
        guard head > 0 else { throw BenchError("\(path) holds no `gigctl export` lines") }
        return Source(lines: lines, head: head, copies: twins ? nil : MarketCopies(sourceLines: lines))
    }

    static let positionKey = Array(#""position":"#.utf8)

    /// The value of `"position": N` in an export line (or `"position":N`, as a line varied by
    /// `MarketCopies` is written), and where its digits are.
    static func positionRange(in line: ArraySlice<UInt8>) -> Range<Int>? {
        let key = positionKey
        var i = line.startIndex
        while i + key.count < line.endIndex {
            if line[i] == key[0], line[i..<(i + key.count)].elementsEqual(key) {
                var start = i + key.count
                while start < line.endIndex, line[start] == UInt8(ascii: " ") { start += 1 }
                var end = start
                while end < line.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[end]) { end += 1 }
                return start..<end
            }
            i += 1
        }
        return nil
    }

    static func position(in line: ArraySlice<UInt8>) -> Int64? {
        positionRange(in: line).flatMap { Int64(String(decoding: line[$0], as: UTF8.self)) }
    }

    static func isHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte)
    }

    /// Line `line` as copy `k`: every UUID's first four hex digits become k, the position moves up by `shift`.
    static func rewrite(_ line: ArraySlice<UInt8>, copy k: Int, shift: Int64, into out: inout [UInt8]) {
        var bytes = Array(line)
        let prefix = Array(String(format: "%04x", k).utf8)
        var i = 0
        while i + 36 <= bytes.count {
            if bytes[i + 8] == 0x2D, bytes[i + 13] == 0x2D, bytes[i + 18] == 0x2D, bytes[i + 23] == 0x2D,
                isHex(bytes[i]), isHex(bytes[i + 7]), isHex(bytes[i + 35]),
                i == 0 || !isHex(bytes[i - 1]),
                (0..<36).allSatisfy({ [8, 13, 18, 23].contains($0) || isHex(bytes[i + $0]) })
            {
                bytes.replaceSubrange(i..<(i + 4), with: prefix)
                i += 36
            } else {
                i += 1
            }
        }
        if let range = positionRange(in: bytes[...]), let old = Int64(String(decoding: bytes[range], as: UTF8.self)) {
            bytes.replaceSubrange(range, with: Array(String(old + shift).utf8))
        }
        out.append(contentsOf: bytes)
        out.append(0x0A)
    }

    /// Grows the log to at least `size` events with copies of `source`, each with its UUIDs and
    /// positions made its own, imported with COPY; then `VACUUM ANALYZE`s it.
    static func grow(_ store: EventStore, source: Source, to size: Int) async throws {
        let copies = source.copies
        let pool = store.pool
        while true {
            let head = try await pool.query("SELECT coalesce(max(global_position), 0)::int8 FROM ledger.events")
                .scalar(Int64.self)
            guard head < Int64(size) else { break }
            let k = Int((head + source.head - 1) / source.head)
            let shift = Int64(k) * source.head
            let lines = source.lines
            let importStart = ContinuousClock.now
            _ = try await store.importLog(allowNonEmpty: true) { writer in
                var chunk: [UInt8] = []
                chunk.reserveCapacity(1 << 21)
                var rewriting = Duration.zero
                for line in lines {
                    let start = ContinuousClock.now
                    // Copy 0 too has its UUIDs' first digits set (to 0000): kept as they are, a
                    // source id that happens to start with k's digits would collide in copy k.
                    if let varied = try copies?.vary(line, copy: k) {
                        rewrite(varied[...], copy: k, shift: shift, into: &chunk)
                    } else {
                        rewrite(line, copy: k, shift: shift, into: &chunk)
                    }
                    rewriting += start.duration(to: .now)
                    if chunk.count >= 1 << 20 {
                        try chunk.withUnsafeBytes { try writer.write($0) }
                        chunk.removeAll(keepingCapacity: true)
                    }
                }
                if !chunk.isEmpty { try chunk.withUnsafeBytes { try writer.write($0) } }
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "  copy %d rewritten at %.0f lines/s (%.1f s of its import)\n", k,
                            Double(lines.count) / max(1e-9, secondsOf(rewriting)), secondsOf(rewriting)
                        ).utf8))
            }
            FileHandle.standardError.write(
                Data(
                    (String(
                        format: "  copy %d imported: head %lld, %.0f events/s, load ", k, shift + source.head,
                        Double(lines.count) / max(1e-9, secondsOf(importStart.duration(to: .now)))
                    ) + "\(loadAverage())\n").utf8))
        }
        try await pool.query("VACUUM ANALYZE ledger.events")
    }

    static func secondsOf(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func run(
        config base: ConnectionConfig, database: String, source path: String, sizes: [Int], seconds: Double,
        rounds: Int, rebuild: Bool, fresh: Bool, twins: Bool = false, queries: Int = 200, querySeconds: Double = 60
    ) async throws {
        let source = try load(path, twins: twins)
        // Streams of this run's append rounds: a database grown by an earlier run already has theirs.
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        if fresh {
            let admin = try await Connection.connect(base.withDatabase("postgres"))
            try await admin.execute("DROP DATABASE IF EXISTS \(identifier: database) WITH (FORCE)")
            try await admin.execute("CREATE DATABASE \(identifier: database)")
            await admin.close()
        }
        let pool = ConnectionPool(config: base.withDatabase(database), maxConnections: 9)
        _ = try await pool.withConnection { try await Migrator().migrate(on: $0) }
        let store = EventStore(pool: pool)
        try await pool.query(
            "CREATE TABLE IF NOT EXISTS public.bench_raw_insert (id bigserial PRIMARY KEY, stream text NOT NULL, data jsonb NOT NULL)"
        )
        let version = try await pool.query("SELECT current_setting('server_version')").scalar(String.self)
        print(
            "### gigbench scale — \(database), PostgreSQL \(version), source \(path) (\(source.lines.count) events, head \(source.head)), copies \(twins ? "twins of it (--twins)" : "varied (MarketCopies)"), queries per kind: \(queries) or \(Int(querySeconds)) s, \(ISO8601DateFormatter().string(from: Date()))"
        )
        print("")
        print(
            "| events | load avg | append/s ÷ raw INSERT/s | gap-safe read ev/s ÷ paged SELECT ev/s | rebuild ev/s ÷ COPY ev/s | candidates p50/p99 ms | competition p50/p99 ms | price trends p50/p99 ms | stream read p50/p99 ms | database / log size |"
        )
        print("|---:|---|---|---|---|---|---|---|---|---|")
        fflush(nil)
        for size in sizes {
            // Grow the log to `size` with copies of the market (size 0: measure it as it is).
            let growStart = ContinuousClock.now
            try await grow(store, source: source, to: size)
            FileHandle.standardError.write(
                Data(
                    String(format: "  grown to %d events in %.0f s\n", size, secondsOf(growStart.duration(to: .now)))
                        .utf8
                ))
            let load = loadAverage()
            let events = try await pool.query("SELECT count(*)::int8 FROM ledger.events").scalar(Int64.self)

            // Appends against raw INSERTs, alternating round by round.
            var appendRates: [Double] = []
            var rawRates: [Double] = []
            for round in 0..<rounds {
                let versions = Versions()
                appendRates.append(
                    try await measure(writers: 8, seconds: seconds) { writer, n in
                        let stream = try StreamName(validating: "bid-s\(size)w\(writer)r\(round)x\(run)")
                        let current = await versions.next(stream.rawValue, by: 1)
                        try await store.append(
                            [NewEvent(type: "BidPlaced", data: payload(n), occurredAt: Date())], to: stream,
                            expecting: current == 0 ? .noStream : .exactly(current),
                            metadata: EventMetadata(actor: "freelancer:bench", commandId: UUID()))
                    })
                rawRates.append(
                    try await measure(writers: 8, seconds: seconds) { writer, n in
                        try await pool.query(
                            "INSERT INTO public.bench_raw_insert (stream, data) VALUES (\("bid-w\(writer)"), \(payload(n)))"
                        )
                    })
            }

            // Gap-safe reads against a plain paged SELECT, over the same window from the middle.
            let window = min(Int(events) / 2, 300_000)
            let middle =
                try await pool.query(
                    "SELECT transaction_id, global_position FROM ledger.events WHERE global_position >= \(Int64(events / 2)) ORDER BY global_position LIMIT 1"
                ).rows.first.map {
                    LogCheckpoint(
                        transactionID: try $0.decode(UInt64.self, at: 0), position: try $0.decode(Int64.self, at: 1))
                } ?? .start
            var readRates: [Double] = []
            var pagedRates: [Double] = []
            for _ in 0..<rounds {
                var start = ContinuousClock.now
                var cursor = middle
                var read = 0
                while read < window {
                    let batch = try await pool.withConnection {
                        try await EventStore.readStored(on: $0, after: cursor, limit: 1000)
                    }
                    guard let last = batch.last else { break }
                    read += batch.count
                    cursor = last.checkpoint
                }
                readRates.append(Double(read) / secondsOf(start.duration(to: .now)))
                start = ContinuousClock.now
                var position = middle.position
                read = 0
                while read < window {
                    let batch = try await pool.query(
                        "SELECT \(StoredEvent.columns) FROM ledger.events WHERE global_position > \(position) ORDER BY global_position LIMIT 1000"
                    ).rows.map(StoredEvent.init(row:))
                    guard let last = batch.last else { break }
                    read += batch.count
                    position = last.position
                }
                pagedRates.append(Double(read) / secondsOf(start.duration(to: .now)))
            }

            // Rebuild of every projection against COPY out of the same rows.
            var rebuildCell = "not run (--no-rebuild)"
            let engine = ProjectionEngine(
                store: store, projectors: ShippedProjectors.all, owner: "gigbench", batchSize: 5_000)
            try await pool.query("UPDATE ledger.projections SET lease_owner = NULL, lease_until = NULL")
            try await engine.prepare()
            if rebuild {
                let copy = try await RebuildBench.copyRate(pool)
                let start = ContinuousClock.now
                _ = try await engine.rebuild(ShippedProjectors.all, restart: true) { _ in }
                let rebuildRate = Double(events) / secondsOf(start.duration(to: .now))
                let copyRate = Double(copy.events) / copy.seconds
                rebuildCell = String(format: "%.0f ÷ %.0f = %.3f", rebuildRate, copyRate, rebuildRate / copyRate)
            }

            // Query latencies over the read models (as the rebuild left them) and stream reads.
            let gigs = try await pool.query(
                "SELECT gig_id::text FROM read_models.match_gigs_v4 ORDER BY gig_id LIMIT 2000"
            ).rows.compactMap { UUID(uuidString: try $0.decode(String.self, at: 0)) }
            let streams = try await pool.query(
                "SELECT stream_id FROM ledger.streams ORDER BY stream_id LIMIT 2000"
            ).rows.map { try StreamName(validating: try $0.decode(String.self, at: 0)) }
            let skills = ["python", "web", "writing", "data-labeling", "design", "seo", "nlp", "machine-learning"]
            var candidates: [Double] = []
            var competition: [Double] = []
            var trends: [Double] = []
            var streamReads: [Double] = []
            let matching = Matching(pool: pool)
            let competitionReads = Competition(pool: pool)
            let prices = Prices(pool: pool)
            func millis(_ since: ContinuousClock.Instant) -> Double { secondsOf(since.duration(to: .now)) * 1000 }
            // Each kind of query on its own, up to `queries` of them or `querySeconds` (a slow kind
            // must not hold the run for tens of minutes); the cells say how many ran.
            func timed(_ query: (Int) async throws -> Void) async throws -> [Double] {
                var times: [Double] = []
                let start = ContinuousClock.now
                for n in 0..<queries {
                    if n > 0, secondsOf(start.duration(to: .now)) >= querySeconds { break }
                    let t = ContinuousClock.now
                    try await query(n)
                    times.append(millis(t))
                }
                return times
            }
            if !gigs.isEmpty {
                candidates = try await timed { n in
                    _ = try await matching.candidates(forGig: gigs[(n * 7919) % gigs.count], k: 10)
                }
                competition = try await timed { n in
                    _ = try await competitionReads.gig(gigs[(n * 104_729) % gigs.count])
                }
            }
            trends = try await timed { n in _ = try await prices.trends(skill: skills[n % skills.count]) }
            if !streams.isEmpty {
                streamReads = try await timed { n in _ = try await store.readStream(streams[(n * 31) % streams.count]) }
            }
            func p(_ values: [Double]) -> String {
                values.isEmpty
                    ? "–"
                    : String(
                        format: "%.1f / %.1f (%d)", ProjectionBench.percentile(values, 0.5),
                        ProjectionBench.percentile(values, 0.99), values.count)
            }
            let sizes =
                try await pool.query(
                    """
                    SELECT pg_size_pretty(pg_database_size(current_database())),
                           pg_size_pretty(sum(pg_total_relation_size(i.inhrelid))::int8)
                    FROM pg_catalog.pg_inherits i WHERE i.inhparent = 'ledger.events'::regclass
                    """
                ).rows.first.map { "\(try $0.decode(String.self, at: 0)) / \(try $0.decode(String.self, at: 1))" }
                ?? "?"
            func rates(_ a: [Double], _ b: [Double]) -> String {
                let ra = a.reduce(0, +) / Double(max(1, a.count))
                let rb = b.reduce(0, +) / Double(max(1, b.count))
                return String(format: "%.0f ÷ %.0f = %.2f", ra, rb, ra / rb)
            }
            print(
                "| \(events) | \(load) → \(loadAverage()) | \(rates(appendRates, rawRates)) | \(rates(readRates, pagedRates)) | \(rebuildCell) | \(p(candidates)) | \(p(competition)) | \(p(trends)) | \(p(streamReads)) | \(sizes) |"
            )
            // Each row as soon as it is measured, also into a pipe: a run stopped at 10M keeps 1M's.
            fflush(nil)
        }
        try await pool.query("DROP TABLE IF EXISTS public.bench_raw_insert")
        await pool.close()
    }
}
