import Foundation
import PQ

/// A stream as listed by `gigctl streams list`.
public struct StreamInfo: Sendable, Codable, Hashable {
    /// The stream's name (`gig-<uuid>`).
    public let stream: String
    /// The part of the name before the first hyphen (`gig`).
    public let category: String
    /// The stream's current version: its number of events.
    public let version: Int64
    /// When its first event was recorded.
    public let createdAt: Date
    /// When its last event was recorded.
    public let updatedAt: Date
}

/// What an import stored.
public struct ImportReport: Sendable, Codable, Hashable {
    /// Events inserted by this import.
    public let events: Int64
    /// Streams created or advanced by this import.
    public let streams: Int64
    /// Command results recorded from the imported events' `commandId` metadata, one per command (a
    /// command already recorded is not counted again).
    public let commands: Int64
    /// The log's highest global position after the import.
    public let headPosition: Int64
}

extension EventStore {
    /// Streams in name order after `after` (paging), optionally of one category and last written
    /// within [`since`, `until`).
    public func listStreams(
        category: String? = nil, since: Date? = nil, until: Date? = nil, after: String? = nil,
        limit: Int = 100
    ) async throws(EventStoreError) -> [StreamInfo] {
        try await run { conn in
            try await conn.query(
                """
                SELECT stream_id, category, version, created_at, updated_at FROM ledger.streams
                WHERE (\(category)::text IS NULL OR category = \(category))
                  AND (\(since)::timestamptz IS NULL OR updated_at >= \(since))
                  AND (\(until)::timestamptz IS NULL OR updated_at < \(until))
                  AND (\(after)::text IS NULL OR stream_id COLLATE "C" > \(after))
                ORDER BY stream_id COLLATE "C" LIMIT \(max(0, limit))
                """
            ).rows.map { row in
                StreamInfo(
                    stream: try row.decode(String.self, at: 0), category: try row.decode(String.self, at: 1),
                    version: try row.decode(Int64.self, at: 2), createdAt: try row.decode(Date.self, at: 3),
                    updatedAt: try row.decode(Date.self, at: 4))
            }
        }
    }

    /// Streams the whole log as NDJSON in position order, one event per line: `position`,
    /// `stream`, `version`, `type`, `schemaVersion`, `data`, `metadata`, `occurredAt`,
    /// `recordedAt`. `write` receives one line at a time (memory does not grow with the log).
    /// Read in one REPEATABLE READ snapshot, so the export is consistent. Returns the line count.
    @discardableResult
    public func export(_ write: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        try await pool.withTransaction(.repeatableRead, readOnly: true) { conn in
            try await conn.copyOut(Self.exportQuery(from: "ledger.events", transactionIDs: false), write)
        }
    }

    /// The COPY of ``export(_:)`` from `table` in position order; `transactionIDs` adds each
    /// event's `transactionId` (as a string), which a partition's archive keeps so a rebuild reads
    /// the log in its original order.
    static func exportQuery(from table: SQL, transactionIDs: Bool) -> SQL {
        // CSV with a delimiter and quote that JSON text never contains raw (jsonb escapes
        // control characters), so each row is the JSON line itself, unescaped.
        let extra: SQL = transactionIDs ? ", 'transactionId', transaction_id::text" : ""
        return """
            COPY (
                SELECT jsonb_build_object(
                    'position', global_position, 'stream', stream_id, 'version', stream_version, 'type', event_type,
                    'schemaVersion', schema_version, 'data', data, 'metadata', metadata,
                    'occurredAt', occurred_at, 'recordedAt', recorded_at\(extra))::text
                FROM \(table) ORDER BY global_position
            ) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')
            """
    }

    /// Loads an NDJSON export (see ``export(_:)``) into the log with COPY, keeping positions,
    /// stream versions, times and order, and rebuilds the streams and the command results (so
    /// a repeated command id is still answered). Refuses a log that has events unless
    /// `allowNonEmpty`, and refuses events that collide with stored ones. All or nothing.
    /// `produce` writes the file's bytes (whole lines) to the writer.
    public func importLog(allowNonEmpty: Bool = false, _ produce: @escaping @Sendable (inout CopyWriter) throws -> Void)
        async throws -> ImportReport
    {
        try await pool.withTransaction { conn in
            if !allowNonEmpty, let head = try await conn.query("SELECT max(global_position) FROM ledger.events").first,
                let position = try head.decode(Int64?.self, at: 0)
            {
                throw EventStoreError(
                    .invalidAppend,
                    "The log is not empty (head at position \(position)). Import into a freshly migrated database, "
                        + "or pass --allow-non-empty to add the events after the existing ones (positions must not collide)."
                )
            }
            try await conn.execute("CREATE TEMP TABLE gigledger_import (doc jsonb NOT NULL) ON COMMIT DROP")
            try await conn.copyIn(
                "COPY gigledger_import (doc) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')", produce)
            let missing =
                try await conn.query(
                    """
                    SELECT count(*) FROM gigledger_import
                    WHERE NOT (doc ?& ARRAY['position', 'stream', 'version', 'type', 'schemaVersion', 'data', 'metadata', 'occurredAt', 'recordedAt'])
                    """
                ).first?.decode(Int64.self, at: 0) ?? 0
            if missing > 0 {
                throw EventStoreError(
                    .invalidAppend,
                    "\(missing) line(s) of the import lack one of position, stream, version, type, schemaVersion, "
                        + "data, metadata, occurredAt, recordedAt: is this a `gigctl export` file? Nothing was imported."
                )
            }
            // Partitions must cover every imported position: move the sequence up to the
            // highest (it ends at the head anyway) and make the partitions up to it.
            try await conn.execute(
                """
                SELECT setval('ledger.events_position_seq', i.m)
                FROM (SELECT max((doc->>'position')::bigint) AS m FROM gigledger_import) i, ledger.events_position_seq s
                WHERE i.m > CASE WHEN s.is_called THEN s.last_value ELSE 0 END
                """)
            try await conn.execute("SELECT count(*) FROM ledger.prepare_partitions()")
            let events =
                try await conn.execute(
                    """
                    INSERT INTO ledger.events (global_position, stream_id, stream_version, category, event_type, schema_version,
                                               data, metadata, occurred_at, recorded_at)
                    SELECT (doc->>'position')::bigint, doc->>'stream', (doc->>'version')::bigint, split_part(doc->>'stream', '-', 1),
                           doc->>'type', (doc->>'schemaVersion')::int, doc->'data', doc->'metadata',
                           (doc->>'occurredAt')::timestamptz, (doc->>'recordedAt')::timestamptz
                    FROM gigledger_import ORDER BY (doc->>'position')::bigint
                    """) ?? 0
            let streams =
                try await conn.execute(
                    """
                    INSERT INTO ledger.streams AS s (stream_id, category, version, created_at, updated_at)
                    SELECT stream_id, split_part(stream_id, '-', 1), max(stream_version), min(recorded_at), max(recorded_at)
                    FROM ledger.events WHERE global_position IN (SELECT (doc->>'position')::bigint FROM gigledger_import)
                    GROUP BY stream_id
                    ON CONFLICT (stream_id) DO UPDATE SET version = greatest(s.version, excluded.version), updated_at = excluded.updated_at
                    """) ?? 0
            // Versions are unique per stream, so count = max means 1…n with no gap.
            if let gap = try await conn.query(
                """
                SELECT stream_id, max(stream_version), count(*) FROM ledger.events
                WHERE stream_id IN (SELECT DISTINCT doc->>'stream' FROM gigledger_import)
                GROUP BY stream_id HAVING count(*) <> max(stream_version) LIMIT 1
                """
            ).first {
                throw EventStoreError(
                    .invalidAppend,
                    "Stream \(try gap.decode(String.self, at: 0)) would reach version \(try gap.decode(Int64.self, at: 1)) "
                        + "with only \(try gap.decode(Int64.self, at: 2)) events: the import is missing some. Nothing was imported."
                )
            }
            // The first result of every command, as ledger.append records it: the streams in
            // ascending order with their versions after, and per event its stream's index,
            // version and position.
            let commands =
                try await conn.execute(
                    """
                    WITH e AS (
                        SELECT (metadata->>'commandId')::uuid AS command_id, global_position, stream_id, stream_version, recorded_at
                        FROM ledger.events
                        WHERE global_position IN (SELECT (doc->>'position')::bigint FROM gigledger_import) AND metadata ? 'commandId'
                    ), s AS (
                        SELECT command_id, stream_id, max(stream_version) AS version,
                               row_number() OVER (PARTITION BY command_id ORDER BY stream_id COLLATE "C") AS i
                        FROM e GROUP BY command_id, stream_id
                    ), c AS (
                        SELECT command_id, array_agg(stream_id ORDER BY i) AS streams, array_agg(version ORDER BY i) AS versions FROM s GROUP BY command_id
                    ), ev AS (
                        SELECT e.command_id, array_agg(s.i::int ORDER BY e.global_position) AS event_streams,
                               array_agg(e.stream_version ORDER BY e.global_position) AS event_versions,
                               array_agg(e.global_position ORDER BY e.global_position) AS positions, min(e.recorded_at) AS recorded_at
                        FROM e JOIN s USING (command_id, stream_id) GROUP BY e.command_id
                    )
                    INSERT INTO ledger.commands (command_id, result, recorded_at)
                    SELECT c.command_id,
                           jsonb_build_object('commandId', c.command_id, 'streams', to_jsonb(c.streams), 'versions', to_jsonb(c.versions),
                                              'eventStreams', to_jsonb(ev.event_streams), 'eventVersions', to_jsonb(ev.event_versions),
                                              'positions', to_jsonb(ev.positions)),
                           ev.recorded_at
                    FROM c JOIN ev USING (command_id)
                    ON CONFLICT (command_id) DO NOTHING
                    """) ?? 0
            try await conn.execute(
                "SELECT setval('ledger.events_position_seq', (SELECT max(global_position) FROM ledger.events))")
            let head =
                try await conn.query("SELECT coalesce(max(global_position), 0) FROM ledger.events").first?.decode(
                    Int64.self, at: 0) ?? 0
            return ImportReport(
                events: Int64(events), streams: Int64(streams), commands: Int64(commands), headPosition: head)
        }
    }
}
