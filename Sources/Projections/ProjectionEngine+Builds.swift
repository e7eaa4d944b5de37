import EventStore
import Foundation
import PQ

/// Why a projector's tables are being built beside the live ones.
public enum BuildPurpose: String, Sendable, Codable {
    /// From position 0 into a shadow schema, then swapped in for the live tables.
    case rebuild
    /// From position 0 into a scratch schema, compared with the live tables, then dropped.
    case verify
}

/// How far a build has come, reported after every batch.
public struct BuildProgress: Sendable {
    /// The projector being built.
    public let projector: String
    /// Rebuild or verify.
    public let purpose: BuildPurpose
    /// Events applied by this build so far (including those of an earlier, interrupted run).
    public let eventsDone: Int64
    /// Events the build had to go through when this run started.
    public let eventsTotal: Int64
    /// Events applied by this run (for a rate).
    public let eventsThisRun: Int64
    /// Time since this run of the build started.
    public let elapsed: Duration
    /// ``elapsed`` in seconds.
    public var elapsedSeconds: Double { elapsed.seconds }
}

/// What a rebuild did.
public struct RebuildReport: Sendable, Codable {
    /// The projector rebuilt.
    public let projector: String
    /// Its read-model version.
    public let version: Int
    /// The events the rebuilt tables reflect (the whole log up to the swap).
    public let eventsApplied: Int64
    /// Of those, applied by this run (an interrupted rebuild resumes).
    public let eventsThisRun: Int64
    /// `true` when this run continued an interrupted rebuild instead of starting from position 0.
    public let resumed: Bool
    /// Of ``eventsThisRun``, those folded inside PostgreSQL in one pass (``LogFolding``); 0 when
    /// the projector was built batch by batch.
    public let eventsFolded: Int64
    /// Wall-clock seconds this run took.
    public let seconds: Double
    /// ``eventsThisRun`` divided by ``seconds`` (0 when no time was measured).
    public var eventsPerSecond: Double { seconds > 0 ? Double(eventsThisRun) / seconds : 0 }
    /// The log position the swapped-in tables reflect.
    public let position: Int64
}

/// A row found in only one of two versions of a table.
public struct RowDifference: Sendable, Codable, Hashable {
    /// The table (unqualified) the row belongs to.
    public let table: String
    /// Which side has the row: `live` / `rebuilt` (verify) or `before` / `after` (replay).
    public let onlyIn: String
    /// The row as JSON.
    public let row: String
}

/// What verify found.
public struct VerifyReport: Sendable, Codable {
    /// The projector verified.
    public let projector: String
    /// Its read-model version.
    public let version: Int
    /// The checkpoint both sides were compared at.
    public let position: Int64
    /// Events the scratch build applied to reach ``position``.
    public let eventsApplied: Int64
    /// Wall-clock seconds the verification took.
    public let seconds: Double
    /// Rows per table in the live tables.
    public let rows: [String: Int64]
    /// Number of differing rows (counting both sides).
    public let differenceCount: Int64
    /// Up to `limit` of the differing rows.
    public let differences: [RowDifference]
    /// `true` when the rebuilt tables equal the live ones row for row.
    public var identical: Bool { differenceCount == 0 }
}

/// What a replay did (or would do, with `dryRun`).
public struct ReplayReport: Sendable, Codable {
    /// The projector replayed.
    public let projector: String
    /// Its read-model version.
    public let version: Int
    /// `true` when the replay was rolled back: the report shows what it would change.
    public let dryRun: Bool
    /// Events re-applied.
    public let eventsReplayed: Int64
    /// The global position of the first event re-applied; `nil` when none was.
    public let firstPosition: Int64?
    /// The global position of the last event re-applied; `nil` when none was.
    public let lastPosition: Int64?
    /// Rows changed by the replay (counting both the old and the new version of a row).
    public let differenceCount: Int64
    /// Up to `limit` of those rows.
    public let differences: [RowDifference]
}

/// A build that is in progress (or was interrupted).
public struct BuildStatus: Sendable, Codable, Hashable {
    /// The projector being built.
    public let name: String
    /// Its read-model version.
    public let version: Int
    /// Rebuild or verify.
    public let purpose: BuildPurpose
    /// The schema it builds into (`gigledger_build_…`).
    public let schema: String
    /// The global position of the last event the build applied (0 before the first batch).
    public let position: Int64
    /// Events the build has applied, across interrupted runs.
    public let eventsApplied: Int64
    /// The instance that started or last resumed the build (it may have stopped since: compare
    /// ``updatedAt``).
    @NullEncoded public var owner: String?
    /// When the build began.
    @RFC3339Time public var startedAt: Date
    /// When the build last recorded progress (a batch, or a resume).
    @RFC3339Time public var updatedAt: Date
}

/// Operator errors of rebuild, verify and replay, worded for the operator.
public struct ProjectionAdminError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension ProjectionEngine {
    /// The schema a build of `projector` writes into.
    package static func buildSchema(_ projector: any Projector, _ purpose: BuildPurpose) -> String {
        "gigledger_build_\(purpose.rawValue)_\(projector.name)_v\(projector.version)"
    }

    /// The projector named `name` among this engine's, or an error listing them.
    public func projector(named name: String) throws -> any Projector {
        if let found = projectors.first(where: { $0.name == name }) { return found }
        throw ProjectionAdminError(
            "There is no projection named '\(name)'. Known: \(projectors.map(\.name).joined(separator: ", ")).")
    }

    /// Builds in progress (rebuilds that were interrupted resume from here).
    public func builds() async throws -> [BuildStatus] {
        try await store.pool.query(
            """
            SELECT name, version, purpose, schema_name, global_position, events_applied, owner, started_at, updated_at
            FROM ledger.projection_builds ORDER BY name, version, purpose
            """
        ).rows.map { row in
            BuildStatus(
                name: try row.decode(String.self, at: 0), version: try row.decode(Int.self, at: 1),
                purpose: BuildPurpose(rawValue: try row.decode(String.self, at: 2)) ?? .rebuild,
                schema: try row.decode(String.self, at: 3),
                position: try row.decode(Int64.self, at: 4), eventsApplied: try row.decode(Int64.self, at: 5),
                owner: try row.decode(String?.self, at: 6), startedAt: try row.decode(Date.self, at: 7),
                updatedAt: try row.decode(Date.self, at: 8))
        }
    }

    /// Starts a build, or finds the interrupted one (`restart` drops it and starts over). Returns
    /// its checkpoint, events applied so far and whether it resumed.
    func openBuild(_ projector: any Projector, _ purpose: BuildPurpose, restart: Bool) async throws -> (
        LogCheckpoint, Int64, Bool
    ) {
        let schema = Self.buildSchema(projector, purpose)
        if restart { try await abandonBuild(projector, purpose) }
        return try await store.pool.withTransaction { conn in
            try await conn.execute(
                """
                INSERT INTO ledger.projection_builds (name, version, purpose, schema_name, owner)
                VALUES (\(projector.name), \(projector.version), \(purpose.rawValue), \(schema), \(self.owner))
                ON CONFLICT (name, version, purpose) DO NOTHING
                """)
            guard
                let row = try await conn.query(
                    """
                    SELECT transaction_id, global_position, events_applied, events_applied > 0 OR global_position > 0 AS resumed
                    FROM ledger.projection_builds
                    WHERE name = \(projector.name) AND version = \(projector.version) AND purpose = \(purpose.rawValue) FOR UPDATE
                    """
                ).first
            else { throw ProjectionAdminError("The build row of \(projector.name) vanished; run the command again.") }
            try await conn.execute(
                "UPDATE ledger.projection_builds SET owner = \(self.owner), updated_at = now() WHERE schema_name = \(schema)"
            )
            try await conn.execute("CREATE SCHEMA IF NOT EXISTS \(identifier: schema)")
            try await conn.execute("SET LOCAL search_path TO \(identifier: schema), read_models")
            try await projector.prepare(on: conn)
            return (
                LogCheckpoint(
                    transactionID: try row.decode(UInt64.self, at: 0), position: try row.decode(Int64.self, at: 1)),
                try row.decode(Int64.self, at: 2), try row.decode(Bool.self, at: 3)
            )
        }
    }

    /// Drops a build's schema and row (an interrupted rebuild the operator does not want resumed).
    /// Returns whether there was one.
    @discardableResult
    public func abandonBuild(_ projector: any Projector, _ purpose: BuildPurpose) async throws -> Bool {
        let schema = Self.buildSchema(projector, purpose)
        return try await store.pool.withTransaction { conn in
            let deleted =
                try await conn.execute(
                    """
                    DELETE FROM ledger.projection_builds WHERE name = \(projector.name) AND version = \(projector.version) AND purpose = \(purpose.rawValue)
                    """) ?? 0
            try await conn.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
            return deleted > 0
        }
    }

    /// Applies one batch to a group of builds, each moving its checkpoint in the same
    /// transaction. The log is read once, after the earliest of their checkpoints; each build
    /// applies the events after its own. Returns the number of events read (0: all caught up to
    /// `through` or the head).
    func buildStep(_ group: [any Projector], _ purpose: BuildPurpose, through end: LogCheckpoint?, on conn: Connection)
        async throws -> Int
    {
        var checkpoints: [LogCheckpoint] = []
        for projector in group {
            guard
                let row = try await conn.query(
                    """
                    SELECT transaction_id, global_position FROM ledger.projection_builds
                    WHERE name = \(projector.name) AND version = \(projector.version) AND purpose = \(purpose.rawValue) FOR UPDATE
                    """
                ).first
            else {
                throw ProjectionAdminError("The \(purpose.rawValue) of \(projector.name) was abandoned by another run.")
            }
            checkpoints.append(
                LogCheckpoint(
                    transactionID: try row.decode(UInt64.self, at: 0), position: try row.decode(Int64.self, at: 1)))
        }
        guard let from = checkpoints.min() else { return 0 }
        let events = try await EventStore.readAll(on: conn, after: from, through: end, limit: batchSize)
        guard !events.isEmpty else { return 0 }
        let skipped = try await skippedPositions(of: group, among: events, on: conn)
        for (projector, checkpoint) in zip(group, checkpoints) {
            let mine = checkpoint == from ? events : events.filter { $0.checkpoint > checkpoint }
            guard let last = mine.last else { continue }
            let schema = Self.buildSchema(projector, purpose)
            try await applyEvents(mine, to: projector, on: conn, into: schema, skipping: skipped[projector.name] ?? [])
            try await conn.execute(
                """
                UPDATE ledger.projection_builds
                SET transaction_id = \(last.transactionID), global_position = \(last.position),
                    events_applied = events_applied + \(mine.count), updated_at = now()
                WHERE schema_name = \(schema)
                """)
        }
        return events.count
    }

    /// Events after `checkpoint` (up to `through`): what a build still has to do.
    func eventsRemaining(after checkpoint: LogCheckpoint, through end: LogCheckpoint? = nil) async throws -> Int64 {
        var sql: SQL = """
            SELECT count(*) FROM ledger.events WHERE (transaction_id, global_position) > (\(checkpoint.transactionID)::xid8, \(checkpoint.position))
            """
        if let end {
            sql.append(" AND (transaction_id, global_position) <= (\(end.transactionID)::xid8, \(end.position))")
        }
        return try await store.pool.query(sql).first?.decode(Int64.self, at: 0) ?? 0
    }

    /// Runs build batches (each its own transaction) until caught up to `through` or the head.
    /// Returns the events read by this run.
    func runBuild(
        _ group: [any Projector], _ purpose: BuildPurpose, from starts: [(LogCheckpoint, Int64)],
        through end: LogCheckpoint?,
        progress: (BuildProgress) -> Void
    ) async throws -> Int64 {
        let clock = ContinuousClock()
        let began = clock.now
        guard let earliest = starts.min(by: { $0.0 < $1.0 }) else { return 0 }
        let label = group.count == 1 ? group[0].name : "\(group.count) projections"
        let total = earliest.1 + (try await eventsRemaining(after: earliest.0, through: end))
        var done = earliest.1
        var thisRun: Int64 = 0
        progress(
            BuildProgress(
                projector: label, purpose: purpose, eventsDone: done, eventsTotal: total, eventsThisRun: 0,
                elapsed: .zero))
        while true {
            try Task.checkCancellation()
            let read = try await store.pool.withTransaction { conn in
                try await self.buildStep(group, purpose, through: end, on: conn)
            }
            if read == 0 { break }
            done += Int64(read)
            thisRun += Int64(read)
            progress(
                BuildProgress(
                    projector: label, purpose: purpose, eventsDone: done, eventsTotal: max(total, done),
                    eventsThisRun: thisRun, elapsed: clock.now - began))
        }
        return thisRun
    }

    /// Rebuilds one projector (see the group form).
    public func rebuild(
        _ projector: any Projector, restart: Bool = false, folding: Bool = true,
        progress: (BuildProgress) -> Void = { _ in }
    ) async throws -> RebuildReport {
        let reports = try await rebuild([projector], restart: restart, folding: folding, progress: progress)
        guard let report = reports.first else {
            throw ProjectionAdminError("The rebuild of \(projector.name) reported nothing.")
        }
        return report
    }

    /// Rebuilds `group` from position 0 into shadow schemas while the live tables keep serving,
    /// reading the log once for all of them; then, in one transaction, catches up the last events
    /// and swaps every shadow table in (readers see the old models or the new ones, never an
    /// empty or half-built model, and models read together change together). An interrupted
    /// rebuild resumes from its own checkpoints unless `restart`.
    ///
    /// With `folding` (the default), a build that starts from position 0 and whose projector is
    /// ``LogFolding`` is first folded inside PostgreSQL, two at a time, up to the log's stable head;
    /// the batches then apply only what came after. A fold that fails on the data falls back to
    /// batches from position 0 (which name the event that fails).
    public func rebuild(
        _ group: [any Projector], restart: Bool = false, folding: Bool = true,
        progress: (BuildProgress) -> Void = { _ in }
    ) async throws -> [RebuildReport] {
        guard !group.isEmpty else { return [] }
        let clock = ContinuousClock()
        let began = clock.now
        try await prepare()
        var starts: [(LogCheckpoint, Int64, Bool)] = []
        for projector in group { starts.append(try await openBuild(projector, .rebuild, restart: restart)) }
        // Events the folds covered ahead of the batches (which start at the earliest checkpoint).
        let unfolded = starts.map(\.1).min() ?? 0
        var folded = [Int64](repeating: 0, count: group.count)
        if folding {
            let outcomes = try await foldBuilds(group, .rebuild, fresh: starts.map { !$0.2 }, progress: progress)
            for (index, outcome) in outcomes.enumerated() {
                guard let outcome else { continue }
                starts[index].0 = outcome.checkpoint
                starts[index].1 = outcome.events
                folded[index] = outcome.events
            }
        }
        var thisRun = try await runBuild(
            group, .rebuild, from: starts.map { ($0.0, $0.1) }, through: nil, progress: progress)
        thisRun += (starts.map(\.1).min() ?? 0) - unfolded
        // The swap needs exclusive locks on the live tables and views. It waits for them at most
        // `swapLockTimeoutMilliseconds` and then gives up and tries again, so it is always the
        // swap, never a reader, that yields when a reader's locks and the swap's would deadlock.
        let (swapped, lastBatch) = try await withSwapRetry(group) { () async throws -> ([(Int64, Int64)], Int64) in
            try await self.store.pool.withTransaction { conn -> ([(Int64, Int64)], Int64) in
                // Hold the live rows: the running daemon's next batches wait for the swap.
                for projector in group.sorted(by: { $0.name < $1.name }) {
                    _ = try await conn.query(
                        "SELECT 1 FROM ledger.projections WHERE name = \(projector.name) AND version = \(projector.version) FOR UPDATE"
                    )
                }
                var lastBatch: Int64 = 0
                while true {
                    let n = try await self.buildStep(group, .rebuild, through: nil, on: conn)
                    if n == 0 { break }
                    lastBatch += Int64(n)
                }
                try await self.swapIn(group, on: conn)
                var swapped: [(Int64, Int64)] = []
                for projector in group {
                    let schema = Self.buildSchema(projector, .rebuild)
                    guard
                        let build = try await conn.query(
                            """
                            SELECT transaction_id, global_position, events_applied FROM ledger.projection_builds WHERE schema_name = \(schema)
                            """
                        ).first
                    else {
                        throw ProjectionAdminError("The rebuild of \(projector.name) was abandoned by another run.")
                    }
                    let position = try build.decode(Int64.self, at: 1)
                    let applied = try build.decode(Int64.self, at: 2)
                    try await conn.execute(
                        """
                        UPDATE ledger.projections
                        SET transaction_id = \(try build.decode(UInt64.self, at: 0)), global_position = \(position), state = 'running',
                            last_error = NULL, error_position = NULL, error_stream = NULL, error_type = NULL,
                            events_applied = \(applied), updated_at = now()
                        WHERE name = \(projector.name) AND version = \(projector.version)
                        """)
                    try await conn.execute("DELETE FROM ledger.projection_builds WHERE schema_name = \(schema)")
                    try await conn.execute("DROP SCHEMA \(identifier: schema) CASCADE")
                    let payload =
                        "{\"projector\":\"\(projector.name)\",\"version\":\(projector.version),\"position\":\(position),\"rebuilt\":true}"
                    try await conn.execute("SELECT pg_notify(\(Self.notificationChannel), \(payload))")
                    swapped.append((applied, position))
                }
                return (swapped, lastBatch)
            }
        }
        thisRun += lastBatch
        let seconds = (clock.now - began).seconds
        var reports: [RebuildReport] = []
        for (index, projector) in group.enumerated() {
            let (applied, position) = swapped[index]
            reports.append(
                RebuildReport(
                    projector: projector.name, version: projector.version, eventsApplied: applied,
                    eventsThisRun: min(applied, thisRun), resumed: starts[index].2, eventsFolded: folded[index],
                    seconds: seconds, position: position))
        }
        return reports
    }

    /// Replaces the live tables of `group` by those built in their shadow schemas, inside the
    /// caller's transaction. The shipped views (functions of the tables) are dropped and
    /// recreated; an object of someone else's that depends on a live table makes the swap fail,
    /// naming it, rather than being dropped.
    func swapIn(_ group: [any Projector], on conn: Connection) async throws {
        try await conn.execute("SELECT set_config('lock_timeout', \(String(Self.swapLockTimeoutMilliseconds)), true)")
        let views = projectors.flatMap(\.views)
        for view in views.reversed() {
            try await conn.execute("DROP VIEW IF EXISTS read_models.\(identifier: view)")
        }
        for projector in group {
            let schema = Self.buildSchema(projector, .rebuild)
            for table in projector.tables {
                do {
                    try await conn.execute("DROP TABLE IF EXISTS read_models.\(identifier: table)")
                } catch {
                    guard error.sqlState == .dependentObjectsStillExist else { throw error }
                    let detail = error.server?.detail ?? error.message
                    throw ProjectionAdminError(
                        "read_models.\(table) cannot be swapped: other objects depend on it (\(detail)). Nothing was changed; the rebuilt tables "
                            + "wait in schema \(schema). Drop those objects (or define them over a view GigLedger owns), then run the rebuild again (it resumes)."
                    )
                }
                try await conn.execute("ALTER TABLE \(identifier: schema).\(identifier: table) SET SCHEMA read_models")
                // A fold turned autovacuum off for the build (LogFold); live tables have it.
                try await conn.execute("ALTER TABLE read_models.\(identifier: table) RESET (autovacuum_enabled)")
                try await conn.execute("GRANT SELECT ON read_models.\(identifier: table) TO gigledger_reader")
                try await conn.execute(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.\(identifier: table) TO gigledger_projector")
            }
        }
        try await conn.execute("SET LOCAL search_path TO read_models")
        for each in projectors { try await each.prepare(on: conn) }
        for each in group where !projectors.contains(where: { $0.name == each.name && $0.version == each.version }) {
            try await each.prepare(on: conn)
        }
    }

    static let swapLockTimeoutMilliseconds = 250
    static let swapAttempts = 40

    /// Runs `swap` again when it could not get its locks in time (55P03) or lost a deadlock
    /// (40P01), with a growing pause; the shadow tables wait meanwhile.
    func withSwapRetry<R>(_ group: [any Projector], _ swap: () async throws -> R) async throws -> R {
        let tables = group.flatMap(\.tables).map { "read_models." + $0 }.joined(separator: ", ")
        var attempt = 0
        while true {
            do {
                return try await swap()
            } catch let error as PQError
                where [.lockNotAvailable, .deadlockDetected].contains(error.sqlState) && attempt < Self.swapAttempts
            {
                attempt += 1
                logger.info(
                    "swap waits for readers", metadata: ["projection.tables": "\(tables)", "attempt": "\(attempt)"])
                try await Task.sleep(for: .milliseconds(min(2_000, 50 * attempt)))
            } catch let error as PQError where [.lockNotAvailable, .deadlockDetected].contains(error.sqlState) {
                throw ProjectionAdminError(
                    "The rebuilt tables could not be swapped in: readers held \(tables) "
                        + "without a pause for \(Self.swapAttempts) attempts (\(error.message)). Nothing was changed; run the rebuild again and it resumes at the swap."
                )
            }
        }
    }

    /// Rebuilds `projector` from position 0 into a scratch schema up to the live checkpoint and
    /// compares it with the live tables, row for row, at the same checkpoint (the live projector
    /// keeps running meanwhile). The scratch schema is dropped afterwards.
    public func verify(_ projector: any Projector, limit: Int = 50, progress: (BuildProgress) -> Void = { _ in })
        async throws -> VerifyReport
    {
        let clock = ContinuousClock()
        let began = clock.now
        try await prepare()
        let start = try await openBuild(projector, .verify, restart: true)
        let live = try await liveCheckpoint(projector)
        var applied = try await runBuild(
            [projector], .verify, from: [(start.0, start.1)], through: live, progress: progress)
        let schema = Self.buildSchema(projector, .verify)
        let report = try await store.pool.withTransaction(.repeatableRead) { conn -> VerifyReport in
            // One snapshot: the live tables and checkpoint as of now; catch the scratch up to it.
            let now = try await self.liveCheckpoint(projector, on: conn)
            while true {
                let n = try await self.buildStep([projector], .verify, through: now, on: conn)
                if n == 0 { break }
                applied += Int64(n)
            }
            var rows: [String: Int64] = [:]
            var count: Int64 = 0
            var differences: [RowDifference] = []
            for table in projector.tables {
                rows[table] =
                    try await conn.query("SELECT count(*) FROM read_models.\(identifier: table)").first?.decode(
                        Int64.self, at: 0) ?? 0
                let (n, some) = try await Self.difference(
                    of: "read_models", "live", and: schema, "rebuilt", table: table, limit: limit, on: conn)
                count += n
                differences += some.prefix(max(0, limit - differences.count))
            }
            try await conn.execute("DELETE FROM ledger.projection_builds WHERE schema_name = \(schema)")
            try await conn.execute("DROP SCHEMA \(identifier: schema) CASCADE")
            return VerifyReport(
                projector: projector.name, version: projector.version, position: now.position, eventsApplied: applied,
                seconds: 0, rows: rows, differenceCount: count, differences: differences)
        }
        return VerifyReport(
            projector: report.projector, version: report.version, position: report.position,
            eventsApplied: report.eventsApplied,
            seconds: (clock.now - began).seconds, rows: report.rows, differenceCount: report.differenceCount,
            differences: report.differences)
    }

    func liveCheckpoint(_ projector: any Projector, on conn: Connection? = nil) async throws -> LogCheckpoint {
        let sql: SQL =
            "SELECT transaction_id, global_position FROM ledger.projections WHERE name = \(projector.name) AND version = \(projector.version)"
        let row: Row?
        if let conn { row = try await conn.query(sql).first } else { row = try await store.pool.query(sql).first }
        guard let row else { return .start }
        return LogCheckpoint(
            transactionID: try row.decode(UInt64.self, at: 0), position: try row.decode(Int64.self, at: 1))
    }

    /// Rows of `table` in only one of two schemas (multiset difference both ways): the count, and
    /// up to `limit` of them as JSON, in a stable order.
    static func difference(
        of left: String, _ leftLabel: String, and right: String, _ rightLabel: String, table: String, limit: Int,
        on conn: Connection
    ) async throws -> (Int64, [RowDifference]) {
        let l: SQL = "\(identifier: left).\(identifier: table)"
        let r: SQL = "\(identifier: right).\(identifier: table)"
        let result = try await conn.query(
            """
            WITH d AS (
                SELECT \(leftLabel)::text AS only_in, row_to_json(x)::text AS row FROM (SELECT * FROM \(l) EXCEPT ALL SELECT * FROM \(r)) x
                UNION ALL
                SELECT \(rightLabel)::text, row_to_json(x)::text FROM (SELECT * FROM \(r) EXCEPT ALL SELECT * FROM \(l)) x
            )
            SELECT only_in, row, count(*) OVER () FROM d ORDER BY row, only_in LIMIT \(max(1, limit))
            """)
        let total = try result.first?.decode(Int64.self, at: 2) ?? 0
        return (
            total,
            try result.rows.map {
                RowDifference(
                    table: table, onlyIn: try $0.decode(String.self, at: 0), row: try $0.decode(String.self, at: 1))
            }
        )
    }

    /// Re-applies events already applied to `projector`'s live tables: those from `position` on,
    /// or those of `stream`, up to its checkpoint (which does not move), in one transaction that
    /// holds the projector's row (its daemon waits). Projectors are idempotent under such a
    /// replay, so it changes nothing unless the projector's code or its tables changed; the
    /// report lists what changed. With `dryRun` the transaction is rolled back.
    public func replay(
        _ projector: any Projector, from position: Int64? = nil, stream: String? = nil, dryRun: Bool,
        limit: Int = 50
    ) async throws -> ReplayReport {
        guard (position == nil) != (stream == nil) else {
            throw ProjectionAdminError("Say what to replay: --from POSITION or --stream STREAM (one of them).")
        }
        try await prepare()
        struct RolledBack: Error { let report: ReplayReport }
        do {
            return try await store.pool.withTransaction { conn -> ReplayReport in
                _ = try await conn.query(
                    "SELECT 1 FROM ledger.projections WHERE name = \(projector.name) AND version = \(projector.version) FOR UPDATE"
                )
                let live = try await self.liveCheckpoint(projector, on: conn)
                var after = LogCheckpoint.start
                if let position {
                    guard
                        let row = try await conn.query(
                            "SELECT transaction_id FROM ledger.events WHERE global_position = \(position)"
                        ).first
                    else {
                        throw ProjectionAdminError(
                            "There is no event at position \(position). `gigctl log tail` shows positions.")
                    }
                    after = LogCheckpoint(transactionID: try row.decode(UInt64.self, at: 0), position: position - 1)
                }
                for table in projector.tables {
                    try await conn.execute(
                        "CREATE TEMP TABLE \(identifier: "before_" + table) ON COMMIT DROP AS SELECT * FROM read_models.\(identifier: table)"
                    )
                }
                var replayed: Int64 = 0
                var first: Int64?
                var last: Int64?
                while true {
                    let events = try await self.applyNextBatch(
                        projector, on: conn, into: "read_models", after: after, through: live,
                        streams: stream.map { [$0] })
                    guard let tail = events.last else { break }
                    first = first ?? events[0].position
                    last = tail.position
                    replayed += Int64(events.count)
                    after = tail.checkpoint
                }
                var count: Int64 = 0
                var differences: [RowDifference] = []
                let temp =
                    try await conn.query("SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()").first?
                    .decode(String.self, at: 0) ?? "pg_temp"
                for table in projector.tables {
                    try await conn.execute(
                        "ALTER TABLE \(identifier: temp).\(identifier: "before_" + table) RENAME TO \(identifier: table)"
                    )
                    let (n, some) = try await Self.difference(
                        of: temp, "before", and: "read_models", "after", table: table, limit: limit, on: conn)
                    count += n
                    differences += some.prefix(max(0, limit - differences.count))
                }
                let report = ReplayReport(
                    projector: projector.name, version: projector.version, dryRun: dryRun, eventsReplayed: replayed,
                    firstPosition: first, lastPosition: last, differenceCount: count, differences: differences)
                if dryRun { throw RolledBack(report: report) }
                return report
            }
        } catch {
            guard let rolledBack = error as? RolledBack else { throw error }
            return rolledBack.report
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
