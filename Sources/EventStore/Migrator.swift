import Foundation
import Logging
import PQ

/// Where a migration stands in one database.
public struct MigrationState: Sendable, Hashable, Codable {
    /// How the migration's record in the database compares with the file this build embeds.
    public enum Status: String, Sendable, Codable {
        /// Applied, and the file still has the checksum recorded then.
        case applied
        /// Not applied yet.
        case pending
        /// Applied, but the file was edited since: refused until the file is restored.
        case edited
        /// Recorded in the database but unknown to this build (a newer gigctl applied it).
        case unknown
    }
    /// The migration's number.
    public let version: Int
    /// Its file name without `.sql`.
    public let name: String
    /// Applied, pending, edited since applied, or unknown to this build.
    public let status: Status
    /// When it was applied; `nil` while pending.
    public let appliedAt: Date?
    /// SHA-256 (hex) of the SQL: as recorded when applied, or of the file for a pending migration.
    public let checksum: String
}

/// Applies `sql/` migrations: under an advisory lock, each in its own transaction, recorded in
/// `public.gigledger_migrations` with its SHA-256; an applied file that was edited is refused.
public struct Migrator: Sendable {
    /// Key of the session advisory lock held while migrating (one migrator per database).
    public static let lockKey: Int64 = 0x6967_6c65_6467_6572  // "igledger"
    /// The migrations it knows, in ascending version order.
    public let migrations: [Migration]
    let logger: Logger

    /// A migrator for `migrations` (by default those embedded from `sql/`), sorted by version.
    public init(migrations: [Migration] = Migration.embedded, logger: Logger = Logger(label: "gigledger.migrate")) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// The state of every migration, known or recorded.
    public func status(on connection: Connection) async throws -> [MigrationState] {
        try await ensureTable(connection)
        let recorded = try await appliedRows(connection)
        var states: [MigrationState] = []
        for migration in migrations {
            let checksum = Migrator.checksum(migration.sql)
            if let row = recorded[migration.version] {
                states.append(
                    MigrationState(
                        version: migration.version, name: migration.name,
                        status: row.checksum == checksum ? .applied : .edited, appliedAt: row.appliedAt,
                        checksum: row.checksum))
            } else {
                states.append(
                    MigrationState(
                        version: migration.version, name: migration.name, status: .pending, appliedAt: nil,
                        checksum: checksum))
            }
        }
        let known = Set(migrations.map(\.version))
        for (version, row) in recorded where !known.contains(version) {
            states.append(
                MigrationState(
                    version: version, name: row.name, status: .unknown, appliedAt: row.appliedAt, checksum: row.checksum
                ))
        }
        return states.sorted { $0.version < $1.version }
    }

    /// Applies every pending migration; returns the ones applied. Refuses to run (applying
    /// nothing) if an applied migration's file was edited.
    @discardableResult
    public func migrate(on connection: Connection, progress: (@Sendable (Migration) -> Void)? = nil) async throws
        -> [Migration]
    {
        try await connection.execute("SELECT pg_advisory_lock(\(Migrator.lockKey))")
        do {
            let applied = try await migrateLocked(connection, progress: progress)
            try await connection.execute("SELECT pg_advisory_unlock(\(Migrator.lockKey))")
            return applied
        } catch {
            _ = try? await connection.execute("SELECT pg_advisory_unlock(\(Migrator.lockKey))")
            throw error
        }
    }

    private func migrateLocked(_ connection: Connection, progress: (@Sendable (Migration) -> Void)?) async throws
        -> [Migration]
    {
        let states = try await status(on: connection)
        if let edited = states.first(where: { $0.status == .edited }) {
            throw EventStoreError(
                .migrationEdited,
                "Migration \(edited.version) (sql/\(edited.name).sql) was edited after it was applied to this database. "
                    + "Applied migrations are immutable: restore the file to what was applied and put the change in a new, higher-numbered migration."
            )
        }
        var applied: [Migration] = []
        let pending = Set(states.filter { $0.status == .pending }.map(\.version))
        for migration in migrations where pending.contains(migration.version) {
            progress?(migration)
            logger.info(
                "applying migration",
                metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
            do throws(PQError) {
                try await connection.withTransaction { conn throws(PQError) in
                    try await conn.executeScript(migration.sql)
                    try await conn.execute(
                        """
                        INSERT INTO public.gigledger_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), \(Migrator.checksum(migration.sql)))
                        """)
                }
            } catch {
                throw EventStoreError(
                    .migrationFailed,
                    "Migration \(migration.version) (\(migration.fileName)) failed and was rolled back: \(error). Nothing of it was applied.",
                    cause: error)
            }
            applied.append(migration)
        }
        return applied
    }

    private func ensureTable(_ connection: Connection) async throws {
        try await connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS public.gigledger_migrations (
                version    integer     NOT NULL,
                name       text        NOT NULL,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                CONSTRAINT gigledger_migrations_pkey PRIMARY KEY (version)
            )
            """)
    }

    private func appliedRows(_ connection: Connection) async throws -> [Int: (
        name: String, checksum: String, appliedAt: Date
    )] {
        let result = try await connection.query(
            "SELECT version, name, checksum, applied_at FROM public.gigledger_migrations ORDER BY version")
        var rows: [Int: (name: String, checksum: String, appliedAt: Date)] = [:]
        for row in result.rows {
            rows[try row.decode(Int.self, "version")] = (
                try row.decode(String.self, "name"), try row.decode(String.self, "checksum"),
                try row.decode(Date.self, "applied_at")
            )
        }
        return rows
    }

    /// SHA-256 of the file's text, hex.
    package static func checksum(_ text: String) -> String { SHA256.hex(Array(text.utf8)) }
}
