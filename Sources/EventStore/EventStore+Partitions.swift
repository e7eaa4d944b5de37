import Foundation
import PQ
import Synchronization

/// A partition of the log (`ledger.events` is partitioned by position range; `sql/0012`).
public struct LogPartition: Sendable, Codable, Hashable {
    /// Where a partition stands.
    public enum State: String, Sendable, Codable, Hashable {
        /// Part of the log: readers see its events.
        case attached
        /// Being detached (`DETACH … CONCURRENTLY` was interrupted; archiving it again finishes it).
        case detaching
        /// No longer part of the log and not yet archived (archiving it again exports it).
        case detached
        /// Exported to an archive file and detached; the table may since have been dropped.
        case archived
    }

    /// The partition's table in schema `ledger` (`events_<first position>`).
    public let name: String
    /// The first position it holds.
    public let firstPosition: Int64
    /// The first position after it (its range is `firstPosition..<endPosition`).
    public let endPosition: Int64
    /// Attached, detaching, detached or archived.
    public let state: State
    /// When it was made.
    public let createdAt: Date
    /// When it was archived; `nil` until then.
    public let archivedAt: Date?
    /// How many events its archive holds; `nil` until archived.
    public let archivedEvents: Int64?
    /// The SHA-256 of its archive file (lower-case hex); `nil` until archived.
    public let archiveSHA256: String?
}

/// What archiving a partition did.
public struct PartitionArchive: Sendable, Codable, Hashable {
    /// The partition archived.
    public let partition: String
    /// The first position it held.
    public let firstPosition: Int64
    /// The first position after it.
    public let endPosition: Int64
    /// Events written to the archive.
    public let events: Int64
    /// The SHA-256 of the bytes written (lower-case hex), also recorded in `ledger.event_partitions`.
    public let sha256: String
    /// Whether the detached table was dropped afterwards.
    public let dropped: Bool
}

/// An archive loaded back into the log for a while (see
/// ``EventStore/withRestoredArchives(_:_:)``).
public struct RestoredArchive: Sendable, Codable, Hashable {
    /// The archived partition it restates.
    public let partition: String
    /// The table holding it while it is attached (`<partition>_restored`).
    public let table: String
    /// The first position it holds.
    public let firstPosition: Int64
    /// The first position after it.
    public let endPosition: Int64
    /// Events loaded.
    public let events: Int64
}

extension EventStore {
    /// Every partition ever made, in position order.
    public func partitions() async throws(EventStoreError) -> [LogPartition] {
        try await run { conn in
            try await Self.partitions(on: conn)
        }
    }

    static func partitions(on conn: Connection, named name: String? = nil) async throws -> [LogPartition] {
        try await conn.query(
            """
            SELECT p.partition_name, p.first_position, p.end_position, p.created_at, p.archived_at, p.archive_events,
                   p.archive_sha256, i.inhdetachpending
            FROM ledger.event_partitions p
            LEFT JOIN pg_catalog.pg_inherits i
                   ON i.inhrelid = to_regclass('ledger.' || quote_ident(p.partition_name))
                  AND i.inhparent = 'ledger.events'::regclass
            WHERE \(name)::text IS NULL OR p.partition_name = \(name)
            ORDER BY p.first_position
            """
        ).rows.map { row in
            let archivedAt = try row.decode(Date?.self, at: 4)
            let pending = try row.decode(Bool?.self, at: 7)
            let state: LogPartition.State =
                switch (archivedAt, pending) {
                case (.some, _): .archived
                case (nil, true?): .detaching
                case (nil, false?): .attached
                case (nil, nil): .detached
                }
            return LogPartition(
                name: try row.decode(String.self, at: 0), firstPosition: try row.decode(Int64.self, at: 1),
                endPosition: try row.decode(Int64.self, at: 2), state: state,
                createdAt: try row.decode(Date.self, at: 3), archivedAt: archivedAt,
                archivedEvents: try row.decode(Int64?.self, at: 5), archiveSHA256: try row.decode(String?.self, at: 6))
        }
    }

    /// Makes partitions until `partitions_ahead` of them (`ledger.event_partitioning`, 4 by
    /// default) lie wholly above the head, each of `partition_size` positions (10 M by default).
    /// Takes no lock that stops writers or readers. Returns the names of the partitions made
    /// (none when enough exist). The projection daemon runs it at start and hourly, the nightly
    /// job once a night; an append past the last partition would fail.
    @discardableResult
    public func preparePartitions() async throws(EventStoreError) -> [String] {
        try await run { conn in
            try await conn.query("SELECT name FROM ledger.prepare_partitions() AS name").rows.map {
                try $0.decode(String.self, at: 0)
            }
        }
    }

    /// Archives one old partition: detaches it from the log with `DETACH PARTITION …
    /// CONCURRENTLY` (writers and readers go on; it waits for the transactions using it), then
    /// writes its events to `write` as NDJSON in position order — the lines of ``export(_:)``
    /// plus each event's `transactionId`, so a rebuild restores the log's order exactly — and
    /// records the count and SHA-256 in `ledger.event_partitions`. `dropTable` then drops the
    /// detached table (keep the file safe first: it is then the only copy).
    ///
    /// Refused (``EventStoreError/Code/archive``) when the partition does not exist, is already
    /// archived, still takes appends (the log has no event past its end) or holds events a
    /// projector has not applied yet. Run again after an interruption: a partition left detaching
    /// or detached is finished and exported. Needs the role that owns the schema.
    public func archivePartition(
        _ name: String, dropTable: Bool = false, write: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> PartitionArchive {
        guard let partition = try await pool.withConnection({ try await Self.partitions(on: $0, named: name) }).first
        else {
            throw EventStoreError(
                .archive, "There is no partition named \(name): `gigctl log partitions` lists them.")
        }
        let table: SQL = "ledger.\(identifier: partition.name)"
        switch partition.state {
        case .archived:
            throw EventStoreError(
                .archive,
                "Partition \(name) was archived already (\(partition.archivedEvents ?? 0) events, SHA-256 \(partition.archiveSHA256 ?? ""))."
            )
        case .attached:
            try await pool.withConnection { conn in
                let passed =
                    try await conn.query(
                        "SELECT EXISTS (SELECT 1 FROM ledger.events WHERE global_position >= \(partition.endPosition))"
                    ).first?.decode(Bool.self, at: 0) ?? false
                guard passed else {
                    throw EventStoreError(
                        .archive,
                        "Partition \(name) (positions \(partition.firstPosition)..<\(partition.endPosition)) still takes appends: "
                            + "only a partition the log has moved past can be archived.")
                }
                if let behind = try await conn.query(
                    """
                    SELECT p.name, p.version FROM ledger.projections p
                    WHERE EXISTS (
                        SELECT 1 FROM ledger.events e
                        WHERE e.global_position >= \(partition.firstPosition) AND e.global_position < \(partition.endPosition)
                          AND (e.transaction_id, e.global_position) > (p.transaction_id, p.global_position))
                    ORDER BY p.name, p.version LIMIT 1
                    """
                ).first {
                    throw EventStoreError(
                        .archive,
                        "Projection \(try behind.decode(String.self, at: 0)) v\(try behind.decode(Int32.self, at: 1)) has not "
                            + "applied every event of partition \(name) yet: let it catch up (or reset it), then archive."
                    )
                }
                try await conn.execute("ALTER TABLE ledger.events DETACH PARTITION \(table) CONCURRENTLY")
            }
        case .detaching:
            _ = try await pool.withConnection { conn in
                try await conn.execute("ALTER TABLE ledger.events DETACH PARTITION \(table) FINALIZE")
            }
        case .detached:
            break
        }
        let hasher = Mutex(SHA256.Hasher())
        let events = try await pool.withTransaction(.repeatableRead) { conn in
            let count = try await conn.copyOut(Self.exportQuery(from: table, transactionIDs: true)) { bytes in
                hasher.withLock { $0.update(bytes) }
                try write(bytes)
            }
            return Int64(count)
        }
        let sha = hasher.withLock { $0.finalize() }
        try await pool.withConnection { conn in
            try await conn.execute(
                """
                UPDATE ledger.event_partitions SET archived_at = now(), archive_events = \(events), archive_sha256 = \(sha)
                WHERE partition_name = \(partition.name)
                """)
            if dropTable { try await conn.execute("DROP TABLE \(table)") }
        }
        return PartitionArchive(
            partition: partition.name, firstPosition: partition.firstPosition, endPosition: partition.endPosition,
            events: events, sha256: sha, dropped: dropTable)
    }

    /// Runs `body` with archived partitions back in the log: each file (made by
    /// ``archivePartition(_:dropTable:write:)``) is checked against its record in
    /// `ledger.event_partitions` (SHA-256 and event count: a file that matches no archive is
    /// refused), loaded into a table of its own with its events' original transaction ids and
    /// attached for its range; afterwards, whether `body` succeeded or threw, each is detached
    /// concurrently and dropped. Meanwhile every reader of the log sees the archived events where
    /// they were, in the order they had; followers whose checkpoints are past them do not read them
    /// again (their transaction ids are older). Used by `gigctl projections rebuild|verify
    /// --archive`. Needs the role that owns the schema.
    public func withRestoredArchives<R>(
        _ files: [String], _ body: ([RestoredArchive]) async throws -> R
    ) async throws -> R {
        var restored: [RestoredArchive] = []
        do {
            for file in files { restored.append(try await restoreArchive(file)) }
            let value = try await body(restored)
            for archive in restored.reversed() { try await removeRestored(archive) }
            return value
        } catch {
            for archive in restored.reversed() { try? await removeRestored(archive) }
            throw error
        }
    }

    private func restoreArchive(_ file: String) async throws -> RestoredArchive {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw EventStoreError(.archive, "Cannot read the archive file \(file): check the path.")
        }
        defer { try? handle.close() }
        let hasher = Mutex(SHA256.Hasher())
        return try await pool.withTransaction { conn in
            try await conn.execute("CREATE TEMP TABLE gigledger_restore (doc jsonb NOT NULL) ON COMMIT DROP")
            try await conn.copyIn(
                "COPY gigledger_restore (doc) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"
            ) { writer in
                while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                    hasher.withLock { $0.update(chunk) }
                    try writer.write(chunk)
                }
            }
            let sha = hasher.withLock { $0.finalize() }
            guard
                let record = try await conn.query(
                    """
                    SELECT partition_name, first_position, end_position, archive_events FROM ledger.event_partitions
                    WHERE archive_sha256 = \(sha)
                    """
                ).first
            else {
                throw EventStoreError(
                    .archive,
                    "\(file) is not the archive of any partition (its SHA-256 \(sha) matches none recorded in "
                        + "ledger.event_partitions): it is another file, or it was changed. Nothing was restored.")
            }
            let partition = try record.decode(String.self, at: 0)
            let first = try record.decode(Int64.self, at: 1)
            let end = try record.decode(Int64.self, at: 2)
            let expected = try record.decode(Int64.self, at: 3)
            let table = partition + "_restored"
            let qualified: SQL = "ledger.\(identifier: table)"
            try await conn.execute(
                "CREATE TABLE \(qualified) (LIKE ledger.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            let events = Int64(
                try await conn.execute(
                    """
                    INSERT INTO \(qualified) (global_position, stream_id, stream_version, category, event_type, schema_version,
                                              data, metadata, occurred_at, recorded_at, transaction_id)
                    SELECT (doc->>'position')::bigint, doc->>'stream', (doc->>'version')::bigint, split_part(doc->>'stream', '-', 1),
                           doc->>'type', (doc->>'schemaVersion')::int, doc->'data', doc->'metadata',
                           (doc->>'occurredAt')::timestamptz, (doc->>'recordedAt')::timestamptz, (doc->>'transactionId')::xid8
                    FROM gigledger_restore ORDER BY (doc->>'position')::bigint
                    """) ?? 0)
            guard events == expected else {
                throw EventStoreError(
                    .archive,
                    "\(file) holds \(events) events but partition \(partition) was archived with \(expected). Nothing was restored."
                )
            }
            try await conn.execute("SELECT ledger.attach_event_partition(\(table), \(first), \(end))")
            return RestoredArchive(
                partition: partition, table: table, firstPosition: first, endPosition: end, events: events)
        }
    }

    private func removeRestored(_ archive: RestoredArchive) async throws {
        let qualified: SQL = "ledger.\(identifier: archive.table)"
        try await pool.withConnection { conn in
            try await conn.execute("ALTER TABLE ledger.events DETACH PARTITION \(qualified) CONCURRENTLY")
            try await conn.execute("DROP TABLE \(qualified)")
        }
    }
}

extension EventStore {
    /// Runs ``preparePartitions()`` now and then every `interval` until the task is cancelled,
    /// so partitions are always made ahead of the head. A failure (the database away for a
    /// moment) is logged as a warning and tried again at the next interval; only cancellation
    /// ends it. The projection daemon (`gigctl projections run --follow`) runs it hourly.
    public func keepPartitionsAhead(every interval: Duration = .seconds(3600)) async throws {
        while true {
            do {
                let made = try await preparePartitions()
                if !made.isEmpty {
                    logger.info("partitions made ahead of the log", metadata: ["log.partitions": "\(made)"])
                }
            } catch {
                logger.warning(
                    "could not make partitions ahead of the log; trying again later",
                    metadata: ["log.error": "\(error)"])
            }
            try await Task.sleep(for: interval)
        }
    }
}
