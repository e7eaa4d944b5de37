import EventStore
import Foundation
import Logging
import Marketplace
import PQ

/// A projector whose tables PostgreSQL can also build in one pass over the log: set-based SQL
/// over all of its events at once, with no payload sent to the client (a rebuild's fast path).
///
/// The incremental ``Projector/apply(batch:on:)`` stays the reference. `verify` always builds
/// with it and compares row for row with the live tables, so after a rebuild that folded, verify
/// checks one implementation against the other: each keeps the other honest.
///
/// A fold reads `pg_temp.fold_log` — `global_position`, `stream_version`, `event_type`,
/// `schema_version`, `data` (jsonb), `occurred_at`, and the fields several folds read, extracted
/// once: `gig_id`, `bid_id`, `freelancer_id`, `contract_id` (`data`'s `gigId`, … as uuid) and
/// `amount_minor` (`amount.minorUnits` as int8), each NULL where `data` has no such field and
/// an error where it has one that does not cast, as the same extraction from `data` would be —
/// holding every event that the build covers,
/// less the projector's recorded skips (`gigctl projections skip`); it is partitioned by
/// `event_type`, so every statement must name the types it reads (only ``eventTypes``). It
/// writes its empty, freshly prepared tables (on the search path) as the incremental projector
/// would have written them after applying those events in log order. It must read every schema
/// version of its events that the registry upcasts, and throw (any SQL error does) on data it
/// cannot read: the rebuild then builds that projector batch by batch instead, which names the
/// event.
public protocol LogFolding: MarketplaceProjector {
    /// Older schema versions the fold reads, by event type (events at the registry's current
    /// version are always read). An event of any other version makes the rebuild build this
    /// projector batch by batch, through the registry's upcasters.
    var foldedOlderVersions: [String: Set<Int>] { get }
    /// The fold's cost per event it reads, relative to the others' (a rebuild starts the most
    /// costly folds first so that two at a time end together).
    var foldCost: Double { get }
    /// Builds the tables from `pg_temp.fold_log` (see the protocol), inside the caller's
    /// transaction.
    func fold(on connection: Connection) async throws
}

/// Why a fold did not run: the log holds data it does not read.
struct FoldRefused: Error, CustomStringConvertible {
    let description: String
}

/// What a fold covered: the build's checkpoint after it and the events of the log up to there.
struct FoldOutcome: Sendable {
    let checkpoint: LogCheckpoint
    let events: Int64
}

/// The log's events up to a stable head, copied once for all of a rebuild's folds into an
/// unlogged table partitioned by event type (schema `gigledger_build_fold_…`, dropped afterwards).
struct FoldSource: Sendable {
    /// The schema holding `log`.
    let schema: String
    /// The last event copied: the checkpoint of every build folded from here.
    let checkpoint: LogCheckpoint
    /// Events of the whole log up to ``checkpoint`` (of every type).
    let events: Int64
    /// Per event type copied: its events and the schema versions they have.
    let types: [String: (count: Int64, versions: Set<Int>)]
}

extension ProjectionEngine {
    /// Copies the events of `types` committed before every transaction still running
    /// (`pg_snapshot_xmin`, so no later commit can land below the checkpoint) into a
    /// ``FoldSource`` named `schema`: the table first, then the rows by two connections at once
    /// (each one half of the pages of each of the log's partitions), each counting what it copied
    /// by type and schema version, then a light `ANALYZE` of the partitions, again on two
    /// connections.
    func makeFoldSource(types: Set<String>, schema: String) async throws -> FoldSource {
        let (horizon, checkpoint, events, heaps) = try await store.pool.withTransaction {
            conn -> (String, LogCheckpoint, Int64, [(schema: String, table: String, pages: Int64)]) in
            let horizon = String(
                try await conn.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8").first?
                    .decode(Int64.self, at: 0) ?? 0)
            let head = try await conn.query(
                """
                SELECT transaction_id, global_position FROM ledger.events WHERE transaction_id < \(horizon)::xid8
                ORDER BY transaction_id DESC, global_position DESC LIMIT 1
                """
            ).first
            let checkpoint =
                try head.map {
                    LogCheckpoint(
                        transactionID: try $0.decode(UInt64.self, at: 0), position: try $0.decode(Int64.self, at: 1))
                } ?? .start
            let events =
                try await conn.query("SELECT count(*) FROM ledger.events WHERE transaction_id < \(horizon)::xid8")
                .first?.decode(Int64.self, at: 0) ?? 0
            // The log's partitions and their sizes, read after the horizon: every event below it
            // was committed before, so it lies within these pages.
            let heaps = try await conn.query(
                """
                SELECT n.nspname, c.relname, pg_relation_size(c.oid) / current_setting('block_size')::int8
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE i.inhparent = 'ledger.events'::regclass ORDER BY c.relname
                """
            ).rows.map {
                (
                    schema: try $0.decode(String.self, at: 0), table: try $0.decode(String.self, at: 1),
                    pages: try $0.decode(Int64.self, at: 2)
                )
            }.filter { $0.pages > 0 }
            try await conn.execute("CREATE SCHEMA \(identifier: schema)")
            try await conn.execute(
                """
                CREATE UNLOGGED TABLE \(identifier: schema).log (
                    global_position bigint NOT NULL, stream_version bigint NOT NULL, event_type text NOT NULL,
                    schema_version integer NOT NULL, data jsonb NOT NULL, occurred_at timestamptz NOT NULL,
                    gig_id uuid, bid_id uuid, freelancer_id uuid, contract_id uuid, amount_minor int8
                ) PARTITION BY LIST (event_type)
                """)
            // Autovacuum stays away from the partitions: the copy's inserts would make it vacuum
            // them while the folds run (two cores' work) and make the final DROP wait for it.
            for (n, type) in types.sorted().enumerated() {
                // A partition bound is a literal (DDL takes no parameters): the type is one of
                // the projectors' own constants, and checked against the log's own rule for
                // type names before it is spliced.
                guard type.wholeMatch(of: /[A-Z][A-Za-z0-9]{0,99}/) != nil else {
                    throw FoldRefused(description: "'\(type)' is not an event type name")
                }
                try await conn.execute(
                    """
                    CREATE UNLOGGED TABLE \(identifier: schema).\(identifier: "log_\(n)")
                    PARTITION OF \(identifier: schema).log FOR VALUES IN ('\(unsafeRaw: type)')
                    WITH (autovacuum_enabled = false)
                    """)
            }
            return (horizon, checkpoint, events, heaps)
        }
        let partitions = types.count
        var found: [String: (count: Int64, versions: Set<Int>)] = [:]
        // Two connections: each copies one half of the pages of each of the log's partitions (a
        // range of tuple ids, so it reads only its half).
        try await withThrowingTaskGroup(of: [Row].self) { copies in
            for half in 0..<2 {
                copies.addTask {
                    var counted: [Row] = []
                    for heap in heaps {
                        let split = "(\(heap.pages / 2),0)"
                        let pages: SQL = half == 0 ? "ctid < \(split)::tid" : "ctid >= \(split)::tid"
                        func copy(_ fields: SQL) async throws -> [Row] {
                            try await self.store.pool.query(
                                """
                                WITH copied AS (
                                    INSERT INTO \(identifier: schema).log
                                    SELECT global_position, stream_version, event_type, schema_version, data, occurred_at, \(fields)
                                    FROM \(identifier: heap.schema).\(identifier: heap.table)
                                    WHERE \(pages) AND transaction_id < \(horizon)::xid8 AND event_type = ANY(\(types.sorted())::text[])
                                    RETURNING event_type, schema_version
                                )
                                SELECT event_type, schema_version, count(*) FROM copied GROUP BY 1, 2
                                """
                            ).rows
                        }
                        do {
                            counted += try await copy(
                                """
                                (data->>'gigId')::uuid, (data->>'bidId')::uuid, (data->>'freelancerId')::uuid,
                                (data->>'contractId')::uuid, (data->'amount'->>'minorUnits')::int8
                                """)
                        } catch let error as PQError where error.sqlState?.errorClass == "22" {
                            // A field that does not cast (a data exception): these pages are
                            // copied without the extracted fields, which `fold_log` then takes
                            // from `data` (a fold reading that event fails there, not every fold).
                            self.logger.info(
                                "fold source: a field does not cast; extracting it in each fold instead",
                                metadata: ["error": "\(error)"])
                            counted += try await copy("NULL, NULL, NULL, NULL, NULL")
                        }
                    }
                    return counted
                }
            }
            for try await rows in copies {
                for row in rows {
                    let type = try row.decode(String.self, at: 0)
                    found[type, default: (0, [])].count += try row.decode(Int64.self, at: 2)
                    found[type, default: (0, [])].versions.insert(try row.decode(Int.self, at: 1))
                }
            }
        }
        // The folds plan over the partitions (the parent's own statistics are not used).
        try await withThrowingTaskGroup(of: Void.self) { analyses in
            for half in 0..<2 {
                analyses.addTask {
                    try await self.store.pool.withTransaction { conn in
                        // Enough for the folds' plans (row counts, a few common values) at a
                        // tenth of the default sample.
                        try await conn.execute("SELECT set_config('default_statistics_target', '10', true)")
                        for n in stride(from: half, to: partitions, by: 2) {
                            try await conn.execute("ANALYZE \(identifier: schema).\(identifier: "log_\(n)")")
                        }
                    }
                }
            }
            try await analyses.waitForAll()
        }
        return FoldSource(schema: schema, checkpoint: checkpoint, events: events, types: found)
    }

    /// Folds a build that has not started (`position` 0, nothing applied) from `source` in one
    /// transaction, and moves the build's checkpoint to the source's. Returns nil when the build
    /// had started or when the fold failed on the data (logged; the caller then goes on batch by
    /// batch, from position 0). Passing faults (a lost connection, a cancel) are thrown.
    func foldBuild(_ projector: any LogFolding, _ purpose: BuildPurpose, from source: FoldSource) async throws
        -> FoldOutcome?
    {
        let schema = Self.buildSchema(projector, purpose)
        let clock = ContinuousClock()
        let began = clock.now
        do {
            let outcome = try await store.pool.withTransaction { conn -> FoldOutcome? in
                guard
                    let build = try await conn.query(
                        """
                        SELECT global_position = 0 AND events_applied = 0 FROM ledger.projection_builds
                        WHERE schema_name = \(schema) FOR UPDATE
                        """
                    ).first, try build.decode(Bool.self, at: 0)
                else { return nil }
                for type in projector.eventTypes.sorted() {
                    for version in source.types[type]?.versions.sorted() ?? [] {
                        guard
                            version == projector.registry.schema(of: type)?.version
                                || projector.foldedOlderVersions[type]?.contains(version) == true
                        else {
                            throw FoldRefused(
                                description:
                                    "the log holds \(type) events of schema version \(version), which the fold does not read"
                            )
                        }
                    }
                }
                // Two folds already keep both cores busy: no parallel workers for their scans
                // and index builds, and no JIT (compiling the folds' plans cost ~2 % of a
                // rebuild's CPU and won nothing back; BENCHMARKS.md).
                try await conn.execute(
                    """
                    SELECT set_config('work_mem', \(Self.foldWorkMemory), true),
                        set_config('maintenance_work_mem', \(Self.foldWorkMemory), true),
                        set_config('jit', 'off', true),
                        set_config('max_parallel_maintenance_workers', '0', true),
                        set_config('max_parallel_workers_per_gather', '0', true)
                    """)
                // The projector's view of the source: less its recorded skips, if it has any.
                let skips =
                    try await conn.query(
                        """
                        SELECT count(*) FROM ledger.projection_skips WHERE name = \(projector.name) AND version = \(projector.version)
                        """
                    ).first?.decode(Int64.self, at: 0) ?? 0
                // A field not extracted by the copy (NULL) is extracted here: NULL again where
                // `data` has none, an error where it does not cast.
                var view: SQL = """
                    CREATE TEMP VIEW fold_log AS
                    SELECT global_position, stream_version, event_type, schema_version, data, occurred_at,
                           coalesce(gig_id, (data->>'gigId')::uuid) AS gig_id, coalesce(bid_id, (data->>'bidId')::uuid) AS bid_id,
                           coalesce(freelancer_id, (data->>'freelancerId')::uuid) AS freelancer_id,
                           coalesce(contract_id, (data->>'contractId')::uuid) AS contract_id,
                           coalesce(amount_minor, (data->'amount'->>'minorUnits')::int8) AS amount_minor
                    FROM \(identifier: source.schema).log l
                    """
                if skips > 0 {
                    try await conn.execute(
                        """
                        CREATE TEMP TABLE fold_skips ON COMMIT DROP AS
                        SELECT global_position FROM ledger.projection_skips WHERE name = \(projector.name) AND version = \(projector.version)
                        """)
                    view.append(
                        " WHERE NOT EXISTS (SELECT 1 FROM pg_temp.fold_skips s WHERE s.global_position = l.global_position)"
                    )
                }
                try await conn.execute(view)
                try await conn.execute("SET LOCAL search_path TO \(identifier: schema), read_models")
                let indexes = try await Self.dropIndexes(of: projector, in: schema, on: conn)
                try await projector.fold(on: conn)
                try await Self.recreate(indexes, on: conn)
                // Statistics now, and no autovacuum until the swap: an autovacuum of the fresh rows
                // would hold the tables the swap must lock, and it yields only after
                // deadlock_timeout (1 s), longer than the swap waits for a lock.
                for table in projector.tables {
                    try await conn.execute(
                        "ALTER TABLE \(identifier: schema).\(identifier: table) SET (autovacuum_enabled = false)")
                    try await conn.execute("ANALYZE \(identifier: schema).\(identifier: table)")
                }
                // A temporary view lives as long as the session (a pooled connection): drop it.
                try await conn.execute("DROP VIEW pg_temp.fold_log")
                try await conn.execute(
                    """
                    UPDATE ledger.projection_builds
                    SET transaction_id = \(source.checkpoint.transactionID), global_position = \(source.checkpoint.position),
                        events_applied = \(source.events), updated_at = now()
                    WHERE schema_name = \(schema)
                    """)
                return FoldOutcome(checkpoint: source.checkpoint, events: source.events)
            }
            if let outcome {
                logger.info(
                    "folded",
                    metadata: [
                        "projection": "\(projector.name)", "events": "\(outcome.events)",
                        "seconds": "\(String(format: "%.2f", (clock.now - began).seconds))",
                    ])
            }
            return outcome
        } catch  where !ProjectionFault.isPassing(error) {
            logger.warning(
                "fold failed; building batch by batch instead",
                metadata: ["projection": "\(projector.name)", "error": "\(error)"])
            return nil
        }
    }

    /// Folds the builds of `group` that have not started: one ``FoldSource`` for all of them,
    /// then at most ``foldConcurrency`` folds at once (each on a connection of its own: two
    /// backends, two cores), the costliest first (``LogFolding/foldCost`` × its events). Returns each projector's
    /// outcome by index (nil: not folded).
    func foldBuilds(
        _ group: [any Projector], _ purpose: BuildPurpose, fresh: [Bool], progress: (BuildProgress) -> Void
    ) async throws -> [FoldOutcome?] {
        let clock = ContinuousClock()
        let began = clock.now
        var outcomes = [FoldOutcome?](repeating: nil, count: group.count)
        let candidates = group.indices.compactMap { index -> (Int, any LogFolding)? in
            guard fresh[index], let folding = group[index] as? any LogFolding else { return nil }
            return (index, folding)
        }
        guard !candidates.isEmpty else { return outcomes }
        try await dropStaleFoldSources()
        let schema =
            "\(Self.foldSchemaPrefix)\(Int64(Date().timeIntervalSince1970))_"
            + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        do {
            let source = try await makeFoldSource(
                types: candidates.reduce(into: Set<String>()) { $0.formUnion($1.1.eventTypes) }, schema: schema)
            // Longest first: each fold's events, weighted by its relative cost.
            func weight(_ projector: any LogFolding) -> Double {
                projector.foldCost * Double(projector.eventTypes.reduce(0) { $0 + (source.types[$1]?.count ?? 0) })
            }
            let work = candidates.sorted { weight($0.1) > weight($1.1) }
            try await withThrowingTaskGroup(of: (Int, FoldOutcome?).self) { tasks in
                var next = work.makeIterator()
                func start() -> Bool {
                    guard let (index, projector) = next.next() else { return false }
                    tasks.addTask { (index, try await self.foldBuild(projector, purpose, from: source)) }
                    return true
                }
                for _ in 0..<Self.foldConcurrency {
                    if !start() { break }
                }
                while let (index, outcome) = try await tasks.next() {
                    outcomes[index] = outcome
                    if let outcome {
                        progress(
                            BuildProgress(
                                projector: group[index].name, purpose: purpose, eventsDone: outcome.events,
                                eventsTotal: outcome.events, eventsThisRun: outcome.events, elapsed: clock.now - began))
                    }
                    _ = start()
                }
            }
        } catch {
            _ = try? await store.pool.query("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
            throw error
        }
        try await store.pool.query("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
        return outcomes
    }

    /// A fold source's schema is this, its creation time (Unix seconds), `_` and a random suffix.
    static let foldSchemaPrefix = "gigledger_build_fold_"
    /// A fold source older than this was left by a rebuild that crashed (a fold of 10M events
    /// takes minutes): the next rebuild drops it.
    static let staleFoldSource: Duration = .seconds(6 * 3600)

    /// Drops the fold sources of rebuilds that stopped before dropping their own (a crash, a kill).
    func dropStaleFoldSources() async throws {
        let now = Int64(Date().timeIntervalSince1970)
        for row in try await store.pool.query(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, \(Self.foldSchemaPrefix))"
        ).rows {
            let name = try row.decode(String.self, at: 0)
            guard let created = Int64(name.dropFirst(Self.foldSchemaPrefix.count).prefix { $0 != "_" }),
                now - created > Self.staleFoldSource.components.seconds
            else { continue }
            logger.info("dropping a stale fold source", metadata: ["schema": "\(name)"])
            try await store.pool.query("DROP SCHEMA IF EXISTS \(identifier: name) CASCADE")
        }
    }

    /// How many folds run at once.
    static let foldConcurrency = 2
    /// `work_mem` and `maintenance_work_mem` inside a fold's transaction: its sorts and hashes
    /// stay in memory (at the default 4 MB a fold of a million events spilled ~0.5 GB to disk).
    static let foldWorkMemory = "256MB"
}
