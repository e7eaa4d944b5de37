import Foundation
import PQ

/// The log's size and how far gap-safe readers may currently read.
public struct LogStatus: Sendable, Codable, Hashable {
    /// The highest global position stored (0 when empty).
    public let headPosition: Int64
    /// Streams stored.
    public let streamCount: Int64
    /// Events stored (from the streams' versions, so it costs no scan).
    public let eventCount: Int64
    /// The oldest transaction still running: gap-safe readers cannot pass events it may commit.
    @NullEncoded public var oldestOpenTransaction: BlockingTransaction?
}

/// A transaction that holds gap-safe readers back while it stays open.
public struct BlockingTransaction: Sendable, Codable, Hashable {
    /// The server process id of the session holding the transaction (`pg_stat_activity.pid`).
    public let pid: Int32
    /// The database the session is connected to; `null` for a session that has none.
    @NullEncoded public var database: String?
    /// The session's `application_name`; `null` when it has none.
    @NullEncoded public var applicationName: String?
    /// The session's state (`active`, `idle in transaction`, …); `null` when not visible to this
    /// role.
    @NullEncoded public var state: String?
    /// When the transaction began; `null` when not visible to this role.
    @NullableRFC3339Time public var transactionStart: Date?
    /// Seconds since the transaction began.
    public let ageSeconds: Double
    /// The transaction's id (`pg_stat_activity.backend_xid`, 32 bits).
    public let transactionID: UInt64
}

/// The PostgreSQL server and database a store is connected to.
public struct DatabaseServer: Sendable, Codable, Hashable {
    /// The server's version (`server_version`, e.g. `15.8`).
    public let version: String
    /// The name of the current database.
    public let database: String
}

extension EventStore {
    /// The server's version and the database's name (needs no migration: works on any database).
    public func server() async throws(EventStoreError) -> DatabaseServer {
        try await run { connection in
            let row = try require(
                try await connection.query(
                    "SELECT current_setting('server_version') AS version, current_database() AS database"
                ).first)
            return DatabaseServer(
                version: try row.decode(String.self, "version"), database: try row.decode(String.self, "database"))
        }
    }

    /// The log's head and the oldest open transaction holding readers back, if any.
    public func status() async throws(EventStoreError) -> LogStatus {
        try await run { connection in
            let counts = try await connection.query(
                """
                SELECT coalesce((SELECT max(global_position) FROM ledger.events), 0) AS head,
                       count(*) AS streams, coalesce(sum(version), 0)::bigint AS events
                FROM ledger.streams
                """)
            let row = try require(counts.first)
            return LogStatus(
                headPosition: try row.decode(Int64.self, "head"),
                streamCount: try row.decode(Int64.self, "streams"),
                eventCount: try row.decode(Int64.self, "events"),
                oldestOpenTransaction: try await Self.oldestOpenTransaction(on: connection))
        }
    }

    /// The oldest transaction on the server that holds a transaction id (only those can hold
    /// gap-safe readers back), with its backend pid so an operator can find or end it.
    public static func oldestOpenTransaction(on connection: Connection) async throws -> BlockingTransaction? {
        let result = try await connection.query(
            """
            SELECT pid, datname, application_name, state, xact_start,
                   extract(epoch FROM (clock_timestamp() - xact_start))::float8 AS age,
                   backend_xid::text::bigint AS xid
            FROM pg_stat_activity
            WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
            ORDER BY age(backend_xid) DESC
            LIMIT 1
            """)
        guard let row = result.first else { return nil }
        return BlockingTransaction(
            pid: try row.decode(Int32.self, "pid"), database: try row.decode(String?.self, "datname"),
            applicationName: try row.decode(String?.self, "application_name"),
            state: try row.decode(String?.self, "state"),
            transactionStart: try row.decode(Date?.self, "xact_start"),
            ageSeconds: try row.decode(Double?.self, "age") ?? 0,
            transactionID: try row.decode(UInt64.self, "xid"))
    }
}

/// `try #require`-like unwrap for library code: a missing row is a database error, not a trap.
func require<T>(_ value: T?, _ what: @autoclosure () -> String = "a row") throws -> T {
    guard let value else {
        throw EventStoreError(.database, "The database returned no \(what()) where one was expected.")
    }
    return value
}
