import Foundation
import PQ

/// Reads may go to another server than writes: a hot standby of the primary
/// (`scripts/db-up --replica`), given with `--read-url` or `READ_DATABASE_URL`.
///
/// A standby replays the primary's WAL, so it shows the primary's committed state as of a moment
/// a little in the past (the replication lag): the log, the read models and the projectors'
/// checkpoints together, as they were committed on the primary. It refuses writes and LISTEN,
/// so only commands that read use it; everything else goes to the primary.
extension GlobalOptions {
    /// Where the read commands connect: `--read-url`, else `READ_DATABASE_URL`, else the primary
    /// (``connectionConfig(environment:)``).
    package func readConnectionConfig(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> ConnectionConfig
    {
        if let readURL, !readURL.isEmpty { return ConnectionConfig(readURL, applicationName: "gigctl") }
        if let url = environment["READ_DATABASE_URL"], !url.isEmpty {
            return ConnectionConfig(url, applicationName: "gigctl")
        }
        return connectionConfig(environment: environment)
    }

    /// ``withPool(maxConnections:sessionSettings:config:_:)`` on ``readConnectionConfig(environment:)``.
    package func withReadPool<R>(
        maxConnections: Int = 4, sessionSettings: [(String, String)] = [],
        _ body: (ConnectionPool) async throws -> R
    ) async throws -> R {
        try await withPool(
            maxConnections: maxConnections, sessionSettings: sessionSettings, config: readConnectionConfig(), body)
    }
}
