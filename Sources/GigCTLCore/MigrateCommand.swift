import ArgumentParser
import EventStore
import Foundation
import PQ

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the pending schema migrations to the database.",
        discussion: """
            Migrations are the numbered files of sql/ (built into gigctl). Each pending one is \
            applied in its own transaction, in order, while an advisory lock keeps other \
            migrators out, and is recorded with its SHA-256 in public.gigledger_migrations. \
            Running it again applies nothing new. An applied migration whose file was edited is \
            refused (exit 78): restore the file and put the change in a new migration.

            The first migration creates the roles gigledger_writer, gigledger_projector and \
            gigledger_reader if they are missing, so the migrating role needs CREATEROLE (the \
            local cluster's postgres superuser has it).

            Examples:
              gigctl migrate
              gigctl migrate status
              gigctl migrate status --json
            """,
        subcommands: [MigrateApply.self, MigrateStatus.self],
        defaultSubcommand: MigrateApply.self
    )
}

struct MigrateApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Apply every pending migration (the default).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let json = global.json
            let applied = try await global.withPool(maxConnections: 1) { pool in
                try await pool.withConnection { conn in
                    try await Migrator(logger: global.logger).migrate(on: conn) { migration in
                        if !json { Output.error("applying \(migration.fileName) ...") }
                    }
                }
            }
            if json {
                try Output.json(["applied": applied.map { "\($0.version) \($0.name)" }])
            } else if applied.isEmpty {
                Output.line("The database is up to date; nothing to apply.")
            } else {
                Output.line("Applied \(applied.count) migration(s): \(applied.map(\.name).joined(separator: ", ")).")
            }
        }
    }
}

struct MigrateStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List applied and pending migrations.",
        discussion: "With --check, exits 1 when any migration is pending, edited or unknown (for deploy scripts).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Exit 1 unless every migration is applied unchanged.")
    var check = false

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let states = try await global.withPool(maxConnections: 1) { pool in
                try await pool.withConnection { try await Migrator(logger: global.logger).status(on: $0) }
            }
            if global.json {
                try Output.json(states)
            } else {
                Output.table(
                    ["VERSION", "NAME", "STATUS", "APPLIED AT"],
                    states.map {
                        [
                            String(format: "%04d", $0.version), $0.name, $0.status.rawValue,
                            Output.timestamp($0.appliedAt),
                        ]
                    })
                let pending = states.filter { $0.status == .pending }.count
                Output.line()
                Output.line(pending == 0 ? "Up to date." : "\(pending) pending: run `gigctl migrate`.")
                if let edited = states.first(where: { $0.status == .edited }) {
                    Output.line(
                        "Edited after it was applied: sql/\(edited.name).sql. Restore it; put changes in a new migration."
                    )
                }
            }
            if check && states.contains(where: { $0.status != .applied }) {
                throw CLIError(.problemFound, "Not every migration is applied unchanged.")
            }
        }
    }
}
