import EventStore
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
/// `schema_version`, `data` (jsonb), `occurred_at` — holding every event of ``eventTypes``
/// that the build covers, less the projector's recorded skips (`gigctl projections skip`), and
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

extension ProjectionEngine {
    /// Folds a build that has not started (`position` 0, nothing applied) in one transaction:
    /// the events committed before every transaction still running (`pg_snapshot_xmin`, so no
    /// later commit can land below the checkpoint) are copied once into a temporary table, the
    /// projector folds them, and the build's checkpoint moves past them. Returns nil when the
    /// build had started or when the fold failed on the data (logged; the caller then goes on
    /// batch by batch, from position 0). Passing faults (a lost connection, a cancel) are thrown.
    func foldBuild(_ projector: any LogFolding, _ purpose: BuildPurpose) async throws -> FoldOutcome? {
        let schema = Self.buildSchema(projector, purpose)
        do {
            return try await store.pool.withTransaction { conn -> FoldOutcome? in
                guard
                    let build = try await conn.query(
                        """
                        SELECT global_position = 0 AND events_applied = 0 FROM ledger.projection_builds
                        WHERE schema_name = \(schema) FOR UPDATE
                        """
                    ).first, try build.decode(Bool.self, at: 0)
                else { return nil }
                let horizon =
                    try await conn.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8").first?
                    .decode(Int64.self, at: 0) ?? 0
                let head = try await conn.query(
                    """
                    SELECT transaction_id, global_position, (SELECT count(*) FROM ledger.events WHERE transaction_id < \(String(horizon))::xid8)
                    FROM ledger.events WHERE transaction_id < \(String(horizon))::xid8
                    ORDER BY transaction_id DESC, global_position DESC LIMIT 1
                    """
                ).first
                guard let head else {
                    return FoldOutcome(checkpoint: .start, events: 0)
                }
                let checkpoint = LogCheckpoint(
                    transactionID: try head.decode(UInt64.self, at: 0), position: try head.decode(Int64.self, at: 1))
                let events = try head.decode(Int64.self, at: 2)
                try await conn.execute(
                    """
                    CREATE TEMP TABLE fold_log ON COMMIT DROP AS
                    SELECT e.global_position, e.stream_version, e.event_type, e.schema_version, e.data, e.occurred_at
                    FROM ledger.events e
                    WHERE e.transaction_id < \(String(horizon))::xid8 AND e.event_type = ANY(\(projector.eventTypes.sorted())::text[])
                      AND NOT EXISTS (SELECT 1 FROM ledger.projection_skips s
                                      WHERE s.name = \(projector.name) AND s.version = \(projector.version)
                                        AND s.global_position = e.global_position)
                    """)
                try await conn.execute("ANALYZE pg_temp.fold_log")
                for row in try await conn.query("SELECT DISTINCT event_type, schema_version FROM pg_temp.fold_log").rows
                {
                    let type = try row.decode(String.self, at: 0)
                    let version = try row.decode(Int.self, at: 1)
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
                try await conn.execute("SET LOCAL search_path TO \(identifier: schema), read_models")
                try await projector.fold(on: conn)
                try await conn.execute(
                    """
                    UPDATE ledger.projection_builds
                    SET transaction_id = \(checkpoint.transactionID), global_position = \(checkpoint.position),
                        events_applied = \(events), updated_at = now()
                    WHERE schema_name = \(schema)
                    """)
                return FoldOutcome(checkpoint: checkpoint, events: events)
            }
        } catch  where !ProjectionFault.isPassing(error) {
            logger.warning(
                "fold failed; building batch by batch instead",
                metadata: ["projection": "\(projector.name)", "error": "\(error)"])
            return nil
        }
    }

    /// Folds the builds of `group` that have not started, at most two at a time (each on a
    /// connection of its own: two backends, two cores). Returns each projector's outcome by
    /// index (nil: not folded).
    func foldBuilds(
        _ group: [any Projector], _ purpose: BuildPurpose, fresh: [Bool], progress: (BuildProgress) -> Void
    ) async throws -> [FoldOutcome?] {
        let clock = ContinuousClock()
        let began = clock.now
        var outcomes = [FoldOutcome?](repeating: nil, count: group.count)
        let work = group.indices.compactMap { index -> (Int, any LogFolding)? in
            guard fresh[index], let folding = group[index] as? any LogFolding else { return nil }
            return (index, folding)
        }
        try await withThrowingTaskGroup(of: (Int, FoldOutcome?).self) { tasks in
            var next = work.makeIterator()
            func start() -> Bool {
                guard let (index, projector) = next.next() else { return false }
                tasks.addTask { (index, try await self.foldBuild(projector, purpose)) }
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
        return outcomes
    }

    /// How many folds run at once.
    static let foldConcurrency = 2
}
