import ArgumentParser
import EventStore
import Foundation
import GigLedger
import Logging
import PQ

/// Options every subcommand takes.
package struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL URL or conninfo (default: DATABASE_URL, the PG* variables, then the local cluster).",
            valueName: "url"))
    package var databaseURL: String?

    /// Where the read commands read (see GlobalOptions+Reads.swift).
    @Option(
        name: .customLong("read-url"),
        help: ArgumentHelp(
            "Read commands (match, stats, streams, log tail, export, projections status) read here, e.g. a hot standby "
                + "(default: READ_DATABASE_URL, else the --database-url choice). A standby trails the primary.",
            valueName: "url"))
    package var readURL: String?

    /// The master key for personal data (PRIVACY.md; see ``masterKey()``).
    @Option(
        name: .customLong("master-key-file"),
        help: ArgumentHelp(
            "File holding the master key for personal data (default: GIGLEDGER_MASTER_KEY_FILE, GIGLEDGER_MASTER_KEY, "
                + "then the local cluster's .gigledger/master-key).",
            valueName: "path"))
    package var masterKeyFile: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    package var json = false

    @Flag(name: .shortAndLong, help: "Log what gigctl does (to stderr).")
    package var verbose = false

    package init() {}

    /// Where to connect, in the documented order of precedence.
    package func connectionConfig(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> ConnectionConfig
    {
        if let databaseURL, !databaseURL.isEmpty { return ConnectionConfig(databaseURL, applicationName: "gigctl") }
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            return ConnectionConfig(url, applicationName: "gigctl")
        }
        let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]
        if libpqVariables.contains(where: { environment[$0] != nil }) {
            return ConnectionConfig("", applicationName: "gigctl")
        }
        if let local = GlobalOptions.localClusterURL() { return ConnectionConfig(local, applicationName: "gigctl") }
        return ConnectionConfig("", applicationName: "gigctl")
    }

    /// The URL scripts/db-up recorded, looked up from the current folder upwards.
    static func localClusterURL() -> String? {
        var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<12 {
            let file = folder.appendingPathComponent(".gigledger/database-url")
            if let text = try? String(contentsOf: file, encoding: .utf8) {
                let url = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !url.isEmpty { return url }
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        return nil
    }

    /// The configured master key: `--master-key-file`, `GIGLEDGER_MASTER_KEY_FILE`,
    /// `GIGLEDGER_MASTER_KEY`, then the local cluster's `.gigledger/master-key`.
    ///
    /// - Throws: ``PrivacyError`` (exit 78) when none is configured or it is malformed.
    package func masterKey(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MasterKey {
        try MasterKey.configured(file: masterKeyFile, environment: environment)
    }

    /// The personal-data vault over `pool`, its master key checked against the database's:
    /// a missing or wrong key fails here, at start, with exit 78, before anything is written.
    package func vault(_ pool: ConnectionPool) async throws -> PersonalDataVault {
        let vault = PersonalDataVault(pool: pool, masterKey: try masterKey())
        try await vault.verifyMasterKey()
        return vault
    }

    /// The command handler over `pool`, its vault checked (``vault(_:)``).
    package func service(_ pool: ConnectionPool, cachedStreams: Int = 10_000, grouping: AppendGrouping? = nil)
        async throws -> MarketplaceService
    {
        MarketplaceService(
            store: EventStore(pool: pool, grouping: grouping, logger: logger), vault: try await vault(pool),
            cachedStreams: cachedStreams, logger: logger)
    }

    package var logger: Logger {
        var logger = Logger(label: "gigctl")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }

    /// A pool for this invocation; closed by ``withPool(maxConnections:_:)``.
    /// `config` defaults to ``connectionConfig(environment:)`` (the primary).
    package func withPool<R>(
        maxConnections: Int = 4, sessionSettings: [(String, String)] = [], config: ConnectionConfig? = nil,
        _ body: (ConnectionPool) async throws -> R
    ) async throws -> R {
        var config = config ?? connectionConfig()
        config.sessionSettings += sessionSettings
        let pool = ConnectionPool(config: config, maxConnections: maxConnections, logger: logger)
        do {
            let value = try await body(pool)
            await pool.close()
            return value
        } catch {
            await pool.close()
            throw error
        }
    }
}
