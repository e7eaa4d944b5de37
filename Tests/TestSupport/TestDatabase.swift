import EventStore
import Foundation
import PQ

/// Databases for tests: each suite gets its own, cloned from a template that was migrated once,
/// so suites run in parallel without seeing each other's rows.
///
/// The server is the one `DATABASE_URL` names (scripts/test starts the local cluster and sets
/// it), or else the local cluster recorded in `.gigledger/database-url`.
public enum TestDatabase {
    /// The server's URL for tests.
    public static var serverConfig: ConnectionConfig {
        var config = ConnectionConfig.resolve(
            nil, environment: environmentWithLocalURL, applicationName: "gigledger-tests")
        // Tests do not need durable commits; benchmarks keep them on.
        config.sessionSettings = [("synchronous_commit", "off")]
        // The whole suite runs at once on two cores: a backend's start once took longer than the
        // default 10 s there (CI, 2026-11-28, while the fold and audit tests ran), and a test
        // must not fail because the machine was busy.
        config.connectTimeoutSeconds = 60
        return config
    }

    static var environmentWithLocalURL: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if environment["DATABASE_URL"] == nil {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            if let url = try? String(
                contentsOf: root.appendingPathComponent(".gigledger/database-url"), encoding: .utf8)
            {
                environment["DATABASE_URL"] = url.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return environment
    }

    /// The pool of the database of `suite`, created (from the template) on first use.
    public static func pool(for suite: String, maxConnections: Int = 8) async throws -> ConnectionPool {
        try await registry.pool(for: suite, maxConnections: maxConnections)
    }

    /// A new database of its own, for a test that needs the whole log to itself; `migrated:
    /// false` gives an empty one (no GigLedger schema).
    public static func fresh(_ label: String, migrated: Bool = true, maxConnections: Int = 8) async throws
        -> ConnectionPool
    {
        let name = try await registry.createDatabase(label, migrated: migrated)
        return ConnectionPool(config: serverConfig.withDatabase(name), maxConnections: maxConnections)
    }

    /// An empty database whose default collation is ICU's `locale` (e.g. `en-US`), where text
    /// sorts differently from byte order.
    public static func freshWithCollation(_ label: String, icuLocale locale: String) async throws -> ConnectionPool {
        let name = try await registry.createDatabase(label, migrated: false, icuLocale: locale)
        return ConnectionPool(config: serverConfig.withDatabase(name), maxConnections: 4)
    }

    /// A config for the database behind `pool`, for opening extra connections.
    public static func config(of pool: ConnectionPool) -> ConnectionConfig { pool.config }

    static let registry = Registry()

    actor Registry {
        private var template: Task<String, any Error>?
        private var pools: [String: ConnectionPool] = [:]
        private var counter = 0

        func pool(for suite: String, maxConnections: Int) async throws -> ConnectionPool {
            if let pool = pools[suite] { return pool }
            let name = try await createDatabase(suite)
            if let pool = pools[suite] { return pool }
            let pool = ConnectionPool(
                config: TestDatabase.serverConfig.withDatabase(name), maxConnections: maxConnections)
            pools[suite] = pool
            return pool
        }

        func createDatabase(_ label: String, migrated: Bool = true, icuLocale: String? = nil) async throws -> String {
            let template = migrated ? try await templateName() : "template0"
            counter += 1
            let slug = label.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30)
            let name = "gltest_\(slug)_\(getpid())_\(counter)"
            let admin = try await Connection.connect(TestDatabase.serverConfig.withDatabase("postgres"))
            defer { Task { await admin.close() } }
            if let icuLocale {
                try await admin.execute(
                    """
                    CREATE DATABASE \(identifier: name) TEMPLATE template0 LOCALE_PROVIDER icu \
                    ICU_LOCALE \(unsafeRaw: "'" + icuLocale.filter { $0.isLetter || $0 == "-" } + "'") LOCALE 'C.UTF-8'
                    """)
            } else {
                try await admin.execute("CREATE DATABASE \(identifier: name) TEMPLATE \(identifier: template)")
            }
            return name
        }

        private func templateName() async throws -> String {
            if let template { return try await template.value }
            let task = Task { try await Registry.buildTemplate() }
            template = task
            return try await task.value
        }

        /// Creates (once per migration set) a migrated template, and drops databases left by
        /// earlier test runs.
        static func buildTemplate() async throws -> String {
            let fingerprint = String(
                Migrator.checksum(Migration.embedded.map(\.sql).joined(separator: "\u{0}")).prefix(12))
            let name = "gltemplate_\(fingerprint)"
            let admin = try await Connection.connect(TestDatabase.serverConfig.withDatabase("postgres"))
            defer { Task { await admin.close() } }
            try await admin.execute("SELECT pg_advisory_lock(\(Int64(7_733_001)))")
            // Databases of earlier runs whose process is gone.
            let stale = try await admin.query(
                """
                SELECT datname FROM pg_database
                WHERE (datname LIKE 'gltest\\_%' AND split_part(datname, '_', 3) <> \(String(getpid())))
                   OR (datname LIKE 'gltemplate\\_%' AND datname <> \(name))
                """)
            for row in stale.rows {
                let db = try row.decode(String.self, at: 0)
                _ = try? await admin.execute("DROP DATABASE IF EXISTS \(identifier: db) WITH (FORCE)")
            }
            let exists = try await admin.query("SELECT 1 FROM pg_database WHERE datname = \(name)").count == 1
            if !exists {
                let building = name + "_building"
                try await admin.execute("DROP DATABASE IF EXISTS \(identifier: building) WITH (FORCE)")
                try await admin.execute("CREATE DATABASE \(identifier: building)")
                let connection = try await Connection.connect(TestDatabase.serverConfig.withDatabase(building))
                try await Migrator().migrate(on: connection)
                await connection.close()
                try await admin.execute("ALTER DATABASE \(identifier: building) RENAME TO \(identifier: name)")
            }
            try await admin.execute("SELECT pg_advisory_unlock(\(Int64(7_733_001)))")
            return name
        }
    }
}

/// Polls `body` until it returns a value, for reads that other suites' open transactions may
/// briefly hold back (gap-safe reading waits for every older transaction on the server).
public func eventually<T>(
    timeout: Duration = .seconds(90), _ body: () async throws -> T?
) async throws -> T? {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
        if let value = try await body() { return value }
        if ContinuousClock.now >= deadline { return nil }
        try await Task.sleep(for: .milliseconds(20))
    }
}

extension TestDatabase {
    /// The server's transactions that hold gap-safe readers back (those with an xid, oldest
    /// first), described for a failing test: when a wait for the log to become readable times
    /// out, this names the culprit instead of leaving a bare timeout.
    public static func horizonHolders(_ pool: ConnectionPool) async -> String {
        do {
            let rows = try await pool.query(
                """
                SELECT pid, datname, application_name, state, backend_xid::text,
                       coalesce(extract(epoch FROM now() - xact_start)::int, -1), left(query, 120)
                FROM pg_stat_activity
                WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
                ORDER BY age(backend_xid) DESC
                """
            ).rows
            let lines = try rows.map { row in
                let pid = try row.decode(Int32.self, at: 0)
                let database = try row.decode(String?.self, at: 1) ?? "-"
                let application = try row.decode(String?.self, at: 2) ?? "-"
                let state = try row.decode(String?.self, at: 3) ?? "-"
                let xid = try row.decode(String.self, at: 4)
                let seconds = try row.decode(Int32.self, at: 5)
                let query = try row.decode(String?.self, at: 6) ?? "-"
                return "pid \(pid) db \(database) app \(application) \(state) xid \(xid) open \(seconds) s: \(query)"
            }
            return lines.isEmpty ? "none with an xid" : lines.joined(separator: "; ")
        } catch {
            return "(could not read pg_stat_activity: \(error))"
        }
    }
}

extension TestDatabase {
    /// Makes the log of the (fresh) database behind `pool` use partitions of `size` positions,
    /// `ahead` of them made ahead, so a test reaches partition boundaries after a few events:
    /// the empty partitions above the head are dropped (the tests connect as the superuser) and
    /// made again by `ledger.prepare_partitions()`. Returns the partitions made.
    @discardableResult
    public static func usePartitions(of size: Int64, ahead: Int32 = 4, _ pool: ConnectionPool) async throws
        -> [String]
    {
        try await pool.withTransaction { conn in
            let empty = try await conn.query(
                """
                SELECT p.partition_name FROM ledger.event_partitions p, ledger.events_position_seq s
                WHERE p.first_position > CASE WHEN s.is_called THEN s.last_value ELSE 0 END
                """
            ).rows.map { try $0.decode(String.self, at: 0) }
            for name in empty {
                try await conn.execute("DROP TABLE ledger.\(identifier: name)")
                try await conn.execute("DELETE FROM ledger.event_partitions WHERE partition_name = \(name)")
            }
            try await conn.execute(
                "UPDATE ledger.event_partitioning SET partition_size = \(size), partitions_ahead = \(ahead)")
            return try await conn.query("SELECT name FROM ledger.prepare_partitions() AS name").rows.map {
                try $0.decode(String.self, at: 0)
            }
        }
    }
}
