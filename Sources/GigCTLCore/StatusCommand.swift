import ArgumentParser
import EventStore
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the database, its migrations and the event log's head.",
        discussion: """
            Connects, then reports the server, the migrations, the size of the log and the oldest \
            open transaction on the server (gap-safe readers cannot read past what it may still \
            commit; a long-running one shows up here with its backend pid).

            Examples:
              gigctl status
              gigctl status --json | jq .log.headPosition
            """)

    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        let database: String
        let server: String
        let migrations: Migrations
        let log: LogStatus?
        struct Migrations: Encodable {
            let applied: Int
            let pending: Int
            let edited: [String]
        }
    }

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let report = try await global.withPool(maxConnections: 2) { pool in
                let store = EventStore(pool: pool, logger: global.logger)
                let server = try await store.server()
                let states = try await pool.withConnection { try await Migrator(logger: global.logger).status(on: $0) }
                let migrations = Report.Migrations(
                    applied: states.filter { $0.status == .applied }.count,
                    pending: states.filter { $0.status == .pending }.count,
                    edited: states.filter { $0.status == .edited }.map(\.name))
                let log = migrations.applied > 0 ? try await store.status() : nil
                return Report(database: server.database, server: server.version, migrations: migrations, log: log)
            }
            if global.json {
                try Output.json(report)
                return
            }
            Output.line("Database    \(report.database) on PostgreSQL \(report.server) (\(global.connectionConfig()))")
            Output.line(
                "Migrations  \(report.migrations.applied) applied, \(report.migrations.pending) pending"
                    + (report.migrations.pending > 0 ? "  → run `gigctl migrate`" : ""))
            guard let log = report.log else {
                Output.line("Event log   not created yet  → run `gigctl migrate`")
                return
            }
            Output.line(
                "Event log   \(log.eventCount) events in \(log.streamCount) streams, head at position \(log.headPosition)"
            )
            if let open = log.oldestOpenTransaction {
                Output.line(
                    String(
                        format: "Oldest open transaction  pid %d (%@, %@), open %.1f s: gap-safe readers wait for it",
                        open.pid, open.applicationName ?? "?", open.state ?? "?", open.ageSeconds))
            } else {
                Output.line("Open transactions  none holding readers back")
            }
        }
    }
}

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print gigctl's version and the schema version it carries.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let schema = Migration.embedded.last?.version ?? 0
        if global.json {
            try Output.json(["version": GigLedgerVersion.current, "schema": String(schema)])
        } else {
            Output.line("gigctl \(GigLedgerVersion.current) (schema \(schema))")
        }
    }
}
