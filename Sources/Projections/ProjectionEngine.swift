import EventStore
import Foundation
import Logging
import PQ

/// Runs projectors: they read the log in batches after their checkpoints and apply a batch and
/// their new checkpoints in one transaction (``stepAll()``); then they follow the log live,
/// woken by ``LogListener`` (EventStore's log-following primitive; the engine reads inside its
/// own transaction because its checkpoints live in `ledger.projections`, locked per batch).
///
/// One active instance per projector: an instance must hold the projector's lease (a row in
/// `ledger.projections`, renewed with every batch, expiring after ``leaseDuration``) to apply a
/// batch, so two daemons never both apply one. (A lease row works through transaction-pooling
/// proxies such as PgBouncer; session advisory locks would not.) A projector that fails at an
/// event is marked `failed` with the event's position, stream and type; the others go on.
public final class ProjectionEngine: Sendable {
    /// The channel `NOTIFY`-ed in the transaction of every applied batch; the payload is JSON
    /// `{"projector", "version", "position"}` (the projector's new checkpoint).
    public static let notificationChannel = "gigledger_projections"
    /// The log the projectors read.
    public let store: EventStore
    /// The projectors this engine runs, in the order they apply each batch.
    public let projectors: [any Projector]
    /// This instance's name in the leases (`host:pid` by default); instances sharing a database
    /// need distinct owners.
    public let owner: String
    /// The most events read per batch (at least 1).
    public let batchSize: Int
    /// How long a lease lasts without renewal; a crashed instance's projectors are taken over after
    /// this.
    public let leaseDuration: Duration
    let logger: Logger

    /// An engine running `projectors` over `store`'s log. Nothing happens until ``prepare()``,
    /// ``stepAll()``, ``catchUpAll()`` or ``follow(fallbackPoll:)`` is called.
    public init(
        store: EventStore, projectors: [any Projector],
        owner: String = "\(ProcessInfo.processInfo.hostName):\(getpid())",
        batchSize: Int = 500, leaseDuration: Duration = .seconds(30),
        logger: Logger = Logger(label: "gigledger.projections")
    ) {
        self.store = store
        self.projectors = projectors
        self.owner = owner
        self.batchSize = max(1, batchSize)
        self.leaseDuration = leaseDuration
        self.logger = logger
    }

    /// What one ``stepAll()`` did for one projector.
    public enum BatchOutcome: Sendable, Equatable {
        /// Applied this many events.
        case applied(Int)
        /// Nothing new to apply.
        case caughtUp
        /// Another instance holds the lease.
        case leasedElsewhere
        /// The projector is marked failed; it does nothing until reset.
        case failed
    }

    /// Creates the projectors' rows and tables.
    public func prepare() async throws {
        for projector in projectors {
            try await store.pool.withTransaction { conn in
                // The row first, then the tables: the order a batch takes them in (a running
                // daemon holds its row, then writes its tables), so the two never deadlock.
                try await conn.execute(
                    """
                    INSERT INTO ledger.projections (name, version) VALUES (\(projector.name), \(projector.version))
                    ON CONFLICT (name, version) DO NOTHING
                    """)
                try await conn.execute("SET LOCAL search_path TO read_models")
                try await projector.prepare(on: conn)
            }
        }
    }

    /// Moves each projector's checkpoint to just after its last event and announces its batch on
    /// ``notificationChannel``, inside the caller's transaction (so both commit with the batch):
    /// one statement for the whole group, whatever its size (a batch's round trips are most of
    /// its time when the machine is busy).
    func advance(_ moves: [(projector: any Projector, last: RecordedEvent, applied: Int)], on conn: Connection)
        async throws
    {
        guard !moves.isEmpty else { return }
        let payloads = moves.map {
            "{\"projector\":\"\($0.projector.name)\",\"version\":\($0.projector.version),\"position\":\($0.last.position)}"
        }
        try await conn.execute(
            """
            WITH moved AS (
                UPDATE ledger.projections p
                SET transaction_id = m.transaction_id::xid8, global_position = m.global_position, state = 'running',
                    events_applied = p.events_applied + m.applied, updated_at = now()
                FROM unnest(\(moves.map(\.projector.name))::text[], \(moves.map(\.projector.version))::int[],
                            \(moves.map { String($0.last.transactionID) })::text[], \(moves.map(\.last.position))::int8[],
                            \(moves.map(\.applied))::int[]) AS m(name, version, transaction_id, global_position, applied)
                WHERE p.name = m.name AND p.version = m.version
            )
            SELECT pg_notify(\(Self.notificationChannel), payload) FROM unnest(\(payloads)::text[]) AS payload
            """)
    }

    /// Reads the batch after `checkpoint` (up to `through`, and only `streams` if given) and has
    /// `projector` apply it to the tables in `schema`, inside the caller's transaction. A failing
    /// event becomes a ``ProjectionFailure`` naming it. Returns the events applied.
    func applyNextBatch(
        _ projector: any Projector, on conn: Connection, into schema: String, after checkpoint: LogCheckpoint,
        through end: LogCheckpoint? = nil, streams: [String]? = nil, limit: Int? = nil
    ) async throws -> [RecordedEvent] {
        let events = try await EventStore.readAll(
            on: conn, after: checkpoint, through: end, limit: limit ?? batchSize, streams: streams)
        let skipped = try await skippedPositions(of: [projector], among: events, on: conn)
        try await applyEvents(events, to: projector, on: conn, into: schema, skipping: skipped[projector.name] ?? [])
        return events
    }

    /// The positions among `events` that an operator decided each of `group` skips (`gigctl
    /// projections skip`), by projector name: one query for a whole batch.
    func skippedPositions(of group: [any Projector], among events: [RecordedEvent], on conn: Connection) async throws
        -> [String: Set<Int64>]
    {
        guard !events.isEmpty, !group.isEmpty else { return [:] }
        var skipped: [String: Set<Int64>] = [:]
        for row in try await conn.query(
            """
            SELECT name, global_position FROM ledger.projection_skips
            WHERE (name, version) IN (SELECT * FROM unnest(\(group.map(\.name))::text[], \(group.map(\.version))::int[]))
              AND global_position = ANY(\(events.map(\.position))::int8[])
            """
        ).rows {
            skipped[try row.decode(String.self, at: 0), default: []].insert(try row.decode(Int64.self, at: 1))
        }
        return skipped
    }

    /// Has `projector` apply `events` (less those at `skipping`) to the tables in `schema`,
    /// inside the caller's transaction. A failing event becomes a ``ProjectionFailure`` naming it.
    /// `searchPathSet`: the caller has already set the transaction's `search_path` to `schema`
    /// (once for a whole group of projectors).
    func applyEvents(
        _ events: [RecordedEvent], to projector: any Projector, on conn: Connection, into schema: String,
        skipping skipped: Set<Int64>, searchPathSet: Bool = false
    ) async throws {
        let events = skipped.isEmpty ? events : events.filter { !skipped.contains($0.position) }
        guard !events.isEmpty else { return }
        if !searchPathSet {
            if schema == "read_models" {
                try await conn.execute("SET LOCAL search_path TO read_models")
            } else {
                try await conn.execute("SET LOCAL search_path TO \(identifier: schema), read_models")
            }
        }
        do {
            try await projector.apply(batch: events, on: conn)
        } catch  where ProjectionFault.isPassing(error) {
            throw error
        } catch let unhandled as UnhandledEvent {
            throw ProjectionFailure(
                projector: projector.name, version: projector.version, position: unhandled.event.position,
                stream: unhandled.event.stream.rawValue, type: unhandled.event.type, reason: unhandled.reason)
        } catch {
            // A set-based projector that did not say which event: name the batch's first.
            let first = events[0]
            throw ProjectionFailure(
                projector: projector.name, version: projector.version, position: first.position,
                stream: first.stream.rawValue, type: first.type, reason: "in the batch starting here: \(error)")
        }
    }

    /// Catches every projector up (``stepAll()`` until no projector applies anything); a failed
    /// projector does not stop the others. Returns the events each applied.
    @discardableResult
    public func catchUpAll() async throws -> [String: Int] {
        var applied: [String: Int] = Dictionary(uniqueKeysWithValues: projectors.map { ($0.name, 0) })
        while true {
            var progressed = false
            for (name, outcome) in try await stepAll() {
                guard case .applied(let count) = outcome, count > 0 else { continue }
                applied[name, default: 0] += count
                progressed = true
            }
            if !progressed { return applied }
        }
    }

    /// One batch for every projector of this engine: the one path by which projectors apply
    /// events, for the daemon (``follow(fallbackPoll:)``, ``catchUpAll()``) and tests alike.
    ///
    /// All projectors move together, in one transaction: it locks their rows in
    /// `ledger.projections`, takes or renews the leases this instance may hold, reads the log
    /// once after the earliest of their checkpoints, has each apply the events after its own, and
    /// moves every checkpoint in the same commit (one read and one commit per batch instead of
    /// one per projector: what keeps lag low). A projector that fails at an event is marked
    /// failed (in a transaction of its own) and the batch is run again without it. A read-only
    /// look comes first, so nothing is written, and no transaction is opened, while there is
    /// nothing to read. Returns each projector's outcome (a projector not prepared yet has
    /// none: ``prepare()`` first).
    @discardableResult
    public func stepAll() async throws -> [String: BatchOutcome] {
        var stopped: [String: BatchOutcome] = [:]
        while true {
            let group = projectors.filter { stopped[$0.name] == nil }
            guard !group.isEmpty else { return stopped }
            let (idle, readable) = try await look(group)
            guard readable else { return idle.merging(stopped) { _, failed in failed } }
            do {
                return try await applyBatch(group).merging(stopped) { _, failed in failed }
            } catch let failure as ProjectionFailure {
                try await markFailed(failure)
                stopped[failure.projector] = .failed
            }
        }
    }

    /// Read-only (costs no commit): whether a projector of `group` that may run here has events
    /// after its checkpoint that a gap-safe read can pass now, and the outcome of those that
    /// have none (`.failed`, `.leasedElsewhere`, `.caughtUp`). It asks for the first event
    /// after each checkpoint in log order (`ORDER BY … LIMIT 1`, through the log-order index)
    /// rather than `EXISTS`: PostgreSQL plans an `EXISTS` over a row comparison as a sequential
    /// scan of the whole log (it drops the `ORDER BY` there and guesses that a third of the rows
    /// match), which made every look cost a full read of `ledger.events`.
    func look(_ group: [any Projector]) async throws -> (idle: [String: BatchOutcome], readable: Bool) {
        var idle: [String: BatchOutcome] = [:]
        var readable = false
        for row in try await store.pool.query(
            ("""
            SELECT p.name, p.state = 'failed' AS failed,
                   NOT (p.lease_owner IS NULL OR p.lease_owner = \(owner) OR p.lease_until < now()) AS elsewhere,
                   coalesce((SELECT e.transaction_id FROM ledger.events e
                             WHERE (e.transaction_id, e.global_position) > (p.transaction_id, p.global_position)
                             ORDER BY e.transaction_id, e.global_position LIMIT 1)
                            < pg_snapshot_xmin(pg_current_snapshot()), false) AS readable
            FROM ledger.projections p
            WHERE (p.name, p.version) IN (SELECT * FROM unnest(\(group.map(\.name))::text[], \(group.map(\.version))::int[]))
            """ as SQL).prepared()
        ).rows {
            let name = try row.decode(String.self, at: 0)
            if try row.decode(Bool.self, at: 1) {
                idle[name] = .failed
            } else if try row.decode(Bool.self, at: 2) {
                idle[name] = .leasedElsewhere
            } else if try row.decode(Bool.self, at: 3) {
                readable = true
            } else {
                idle[name] = .caughtUp
            }
        }
        return (idle, readable)
    }

    /// Whether a projector this instance may run has events after its checkpoint that the
    /// gap-safe read cannot pass yet (called once caught up: an older transaction is still open,
    /// so the daemon looks again soon by itself). Read-only.
    func hasHeldBackEvents() async throws -> Bool {
        try await store.pool.query(
            ("""
            SELECT EXISTS (
                SELECT 1 FROM ledger.projections p
                WHERE (p.name, p.version) IN (SELECT * FROM unnest(\(projectors.map(\.name))::text[], \(projectors.map(\.version))::int[]))
                  AND p.state <> 'failed'
                  AND (p.lease_owner IS NULL OR p.lease_owner = \(owner) OR p.lease_until < now())
                  AND (SELECT 1 FROM ledger.events e
                       WHERE (e.transaction_id, e.global_position) > (p.transaction_id, p.global_position)
                       ORDER BY e.transaction_id, e.global_position LIMIT 1) IS NOT NULL)
            """ as SQL).prepared()
        ).scalar(Bool.self)
    }

    /// The transaction of ``stepAll()`` for `group`; a failing event throws its ``ProjectionFailure``.
    func applyBatch(_ group: [any Projector]) async throws -> [String: BatchOutcome] {
        let leaseSeconds = Double(leaseDuration.components.seconds)
        return try await store.pool.withTransaction { conn -> [String: BatchOutcome] in
            let rows = try await conn.query(
                """
                SELECT name, version, transaction_id, global_position,
                       state <> 'failed' AND (lease_owner IS NULL OR lease_owner = \(self.owner) OR lease_until < now()) AS runs_here,
                       lease_owner IS NOT DISTINCT FROM \(self.owner) AND lease_until > now() + make_interval(secs => \(leaseSeconds / 2)) AS lease_fresh,
                       state = 'failed' AS failed
                FROM ledger.projections
                WHERE (name, version) IN (SELECT * FROM unnest(\(group.map(\.name))::text[], \(group.map(\.version))::int[]))
                ORDER BY name, version FOR UPDATE
                """
            ).rows
            var outcomes: [String: BatchOutcome] = [:]
            var active: [(projector: any Projector, checkpoint: LogCheckpoint)] = []
            var renew: [String] = []
            for row in rows {
                let name = try row.decode(String.self, at: 0)
                guard try row.decode(Bool.self, at: 4) else {
                    outcomes[name] = try row.decode(Bool.self, at: 6) ? .failed : .leasedElsewhere
                    continue
                }
                let version = try row.decode(Int.self, at: 1)
                guard let projector = group.first(where: { $0.name == name && $0.version == version }) else { continue }
                active.append(
                    (
                        projector,
                        LogCheckpoint(
                            transactionID: try row.decode(UInt64.self, at: 2),
                            position: try row.decode(Int64.self, at: 3))
                    ))
                if !(try row.decode(Bool.self, at: 5)) { renew.append(name) }
            }
            guard let from = active.map(\.checkpoint).min() else { return outcomes }
            if !renew.isEmpty {
                try await conn.execute(
                    """
                    UPDATE ledger.projections SET lease_owner = \(self.owner), lease_until = now() + make_interval(secs => \(leaseSeconds))
                    WHERE name = ANY(\(renew)::text[]) AND (name, version) IN (SELECT * FROM unnest(\(group.map(\.name))::text[], \(group.map(\.version))::int[]))
                    """)
            }
            let events = try await EventStore.readAll(on: conn, after: from, limit: self.batchSize)
            let skipped = try await self.skippedPositions(of: active.map(\.projector), among: events, on: conn)
            var moves: [(projector: any Projector, last: RecordedEvent, applied: Int)] = []
            for (projector, checkpoint) in active {
                let mine = checkpoint == from ? events : events.filter { $0.checkpoint > checkpoint }
                guard let last = mine.last else {
                    outcomes[projector.name] = .caughtUp
                    continue
                }
                outcomes[projector.name] = .applied(mine.count)
                if moves.isEmpty { try await conn.execute("SET LOCAL search_path TO read_models") }
                try await self.applyEvents(
                    mine, to: projector, on: conn, into: "read_models", skipping: skipped[projector.name] ?? [],
                    searchPathSet: true)
                moves.append((projector, last, mine.count))
            }
            try await self.advance(moves, on: conn)
            return outcomes
        }
    }

    /// Catches up, then follows the log until cancelled, woken by ``LogListener`` (the log's
    /// NOTIFY; looking again by itself while events are held back by an older open transaction;
    /// a fallback poll so an expired lease elsewhere is taken over). A lost connection or a
    /// restarting server is waited out (250 ms growing to 10 s); nothing is applied twice.
    public func follow(fallbackPoll: Duration = .seconds(5)) async throws {
        try await prepare()
        let listener = LogListener(config: store.pool.config, fallbackPoll: fallbackPoll, logger: logger)
        defer {
            Task {
                await listener.close()
                try? await self.releaseLeases()
            }
        }
        try await listener.start()
        var pause = Duration.milliseconds(250)
        while !Task.isCancelled {
            do {
                try await catchUpAll()
                try await listener.wait(after: try await hasHeldBackEvents() ? .heldBack : .caughtUp)
                pause = .milliseconds(250)
            } catch  where ProjectionFault.isPassing(error) && !Task.isCancelled {
                // The database restarted or a connection broke: nothing was applied by the failed
                // batch; wait and carry on (the listener listens afresh on its next wait).
                logger.warning(
                    "projections wait for the database", metadata: ["error": "\(error)", "retry.in": "\(pause)"])
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(10))
            }
        }
    }

    /// Gives up this instance's leases, so another instance can take over at once (called when a
    /// run ends; a crashed instance's lease simply expires).
    public func releaseLeases() async throws {
        try await store.pool.query(
            """
            UPDATE ledger.projections SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = \(owner)
            """)
    }

    /// Projectors whose lease another live instance holds, with that instance's name.
    public func leasedElsewhere() async throws -> [String: String] {
        var held: [String: String] = [:]
        for row in try await store.pool.query(
            """
            SELECT name, lease_owner FROM ledger.projections WHERE lease_owner <> \(owner) AND lease_until > now()
            """
        ).rows {
            held[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        return held
    }

    /// Marks the projector failed at the event that stopped it, and logs it.
    func markFailed(_ failure: ProjectionFailure) async throws {
        logger.error(
            "projector stopped",
            metadata: [
                "projection.name": "\(failure.projector)", "projection.position": "\(failure.position)",
                "error": "\(failure.reason)",
            ])
        try await store.pool.query(
            """
            UPDATE ledger.projections
            SET state = 'failed', last_error = \(String(failure.reason.prefix(2000))), error_position = \(failure.position),
                error_stream = \(failure.stream), error_type = \(failure.type), updated_at = now()
            WHERE name = \(failure.projector) AND version = \(failure.version)
            """)
    }

    /// Records the operator's decision that `projector` skips the event at `position` (one it
    /// cannot handle; the log cannot be changed), and clears the projector if it had failed
    /// there. Live runs, rebuilds, verifications and replays all honour it.
    public func skip(_ name: String, version: Int, position: Int64, reason: String) async throws {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ProjectionAdminError("Say why the event is skipped (--reason): the decision is kept on the record.")
        }
        try await store.pool.withTransaction { conn in
            guard try await conn.query("SELECT 1 FROM ledger.events WHERE global_position = \(position)").first != nil
            else {
                throw ProjectionAdminError("There is no event at position \(position).")
            }
            guard
                try await conn.query("SELECT 1 FROM ledger.projections WHERE name = \(name) AND version = \(version)")
                    .first != nil
            else {
                throw ProjectionAdminError(
                    "There is no projection \(name) v\(version); `gigctl projections status` lists them.")
            }
            try await conn.execute(
                """
                INSERT INTO ledger.projection_skips (name, version, global_position, reason)
                VALUES (\(name), \(version), \(position), \(String(trimmed.prefix(2000))))
                ON CONFLICT DO NOTHING
                """)
            try await conn.execute(
                """
                UPDATE ledger.projections SET state = 'idle', last_error = NULL, error_position = NULL, error_stream = NULL,
                    error_type = NULL, updated_at = now()
                WHERE name = \(name) AND version = \(version) AND state = 'failed' AND error_position = \(position)
                """)
        }
    }

    /// Clears a failed projector so it runs again from its checkpoint (after the projector or
    /// the data was fixed).
    public func reset(_ name: String, version: Int) async throws {
        try await store.pool.query(
            """
            UPDATE ledger.projections SET state = 'idle', last_error = NULL, error_position = NULL, error_stream = NULL,
                error_type = NULL, updated_at = now()
            WHERE name = \(name) AND version = \(version)
            """)
    }

    /// Status of every projector (from `read_models.projection_status`).
    public func status() async throws -> [ProjectionStatus] {
        let rows = try await store.pool.query(
            """
            SELECT name, version, state, checkpoint_position, head_position, lag_events, lag_seconds, last_error,
                   error_position, error_stream, error_type, events_applied, lease_owner
            FROM read_models.projection_status ORDER BY name, version
            """)
        return try rows.rows.map { row in
            ProjectionStatus(
                name: try row.decode(String.self, "name"), version: try row.decode(Int.self, "version"),
                state: try row.decode(String.self, "state"),
                checkpoint: try row.decode(Int64.self, "checkpoint_position"),
                head: try row.decode(Int64.self, "head_position"),
                lagEvents: try row.decode(Int64.self, "lag_events"),
                lagSeconds: rounded(try row.decode(Double.self, "lag_seconds"), places: 1),
                lastError: try row.decode(String?.self, "last_error"),
                errorPosition: try row.decode(Int64?.self, "error_position"),
                errorStream: try row.decode(String?.self, "error_stream"),
                errorType: try row.decode(String?.self, "error_type"),
                eventsApplied: try row.decode(Int64.self, "events_applied"),
                leaseOwner: try row.decode(String?.self, "lease_owner"))
        }
    }
}

/// One row of `read_models.projection_status` (sql/READ_MODELS.md).
public struct ProjectionStatus: Sendable, Codable, Hashable {
    /// The projector's name.
    public let name: String
    /// The projector's read-model version.
    public let version: Int
    /// `idle` (never ran), `running` (applied at least one batch) or `failed` (stopped at an event).
    public let state: String
    /// The global position of the last event applied (0: none).
    public let checkpoint: Int64
    /// The highest global position in the log (0 when empty).
    public let head: Int64
    /// Events of the log after the checkpoint, in gap-safe order: the events this projector has yet
    /// to apply.
    public let lagEvents: Int64
    /// Seconds since the oldest unapplied event was recorded, 1 decimal (0 when caught up).
    public let lagSeconds: Double
    /// Why the projector stopped, while it is `failed`; `null` otherwise.
    @NullEncoded public var lastError: String?
    /// The global position of the event it stopped at, while `failed`.
    @NullEncoded public var errorPosition: Int64?
    /// That event's stream, while `failed`.
    @NullEncoded public var errorStream: String?
    /// That event's type, while `failed`.
    @NullEncoded public var errorType: String?
    /// Events applied since the projector's row was created (a rebuild sets it to the events the
    /// rebuilt tables reflect).
    public let eventsApplied: Int64
    /// The instance that holds (or last held, if expired) the projector's lease; `null` once
    /// released or never taken.
    @NullEncoded public var leaseOwner: String?
}
