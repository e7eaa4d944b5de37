import ArgumentParser
import Foundation

/// `gigctl`: the GigLedger admin CLI.
package struct GigCTL: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "gigctl",
        abstract: "Operate GigLedger, the event-sourced core of the gig marketplace.",
        discussion: """
            GigLedger keeps every fact of the marketplace as an event in an append-only log in \
            PostgreSQL. gigctl prepares the database, inspects the log and reports its health.

            Which database: --database-url, else DATABASE_URL, else the PG* variables (PGHOST, \
            PGDATABASE, ...), else the local cluster started by scripts/db-up (recorded in \
            .gigledger/database-url). Read commands (match, stats, streams, log tail, export, \
            projections status) may read elsewhere, e.g. a hot standby: --read-url, else \
            READ_DATABASE_URL, else the same database. Passwords are never printed.

            Getting started:
              scripts/db-up            start the local PostgreSQL (prints its URL)
              gigctl migrate           create or upgrade the schema
              gigctl status            check the database and the log
              gigctl client register --name Acme --country DE --payment-verified
              gigctl gig post --client ID --title "Fine-tune a classifier" --skill nlp ...

            Exit codes:
              0   success (for a marketplace command: done, or already done)
              1   the command ran and found a problem (e.g. migrate status --check)
              64  usage error: a bad flag, argument or JSON command (nothing was done)
              65  rejected: a marketplace rule refused the command (its code is printed; also
                  an id that names nothing, or an actor acting for someone else)
              69  database unavailable: could not connect, or the connection broke
              70  internal error (please report it)
              75  conflict: concurrent writers won every retry; send it again with the same --command-id
              78  configuration: schema not migrated (run gigctl migrate), an applied migration edited,
                  or the master key for personal data missing or wrong (PRIVACY.md)

            With --json a failure prints one JSON object on stderr: code (stable, e.g. GIG_NOT_OPEN, \
            NOT_MIGRATED), message, exitCode, and the fields of the rule (e.g. rule, command, stream; \
            for a conflict stream, expected, actual). Text mode prints "error: <message>".
            """,
        version: GigLedgerVersion.current,
        subcommands: [
            MigrateCommand.self, StatusCommand.self,
            FreelancerGroup.self, ClientGroup.self, GigGroup.self, BidGroup.self, ContractGroup.self, Submit.self,
            TimersGroup.self, SimulateCommand.self, ProjectionsGroup.self, ReplayCommand.self, StreamsGroup.self,
            LogGroup.self,
            ExportCommand.self, ImportCommand.self, MatchGroup.self, AuditGroup.self, StatsGroup.self,
            ServeCommand.self,
            TokensGroup.self, PrivacyGroup.self,
            VersionCommand.self,
        ]
    )

    package init() {}
}

/// The version `gigctl version` reports.
package enum GigLedgerVersion {
    package static let current = "0.1.0"
}

extension GigCTL {
    /// Parses the command line and runs the chosen subcommand, exiting with its documented code.
    /// (What `AsyncParsableCommand.main()` does; called from `main.swift`, where the synchronous
    /// overloads would otherwise be chosen.)
    package static func runMain(_ arguments: [String]? = nil) async {
        do {
            let command = try await asyncParseAsRoot(arguments)
            if let asyncCommand = command as? any AsyncParsableCommand {
                try await runAsync(asyncCommand)
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch {
            // A failure inside a command was reported by `runReportingErrors` (it throws an
            // `ExitCode`); one of parsing or validation is reported here, as JSON under --json.
            let code = exitCode(for: error)
            if !(error is ExitCode), code != .success,
                (arguments ?? Array(CommandLine.arguments.dropFirst())).contains("--json")
            {
                let exit = CLIError.Exit(rawValue: code.rawValue) ?? .usage
                Output.standardError(
                    CLIError(
                        exit, code: exit.code, message: message(for: error), fields: [:], text: message(for: error)
                    ).jsonObject() + Data("\n".utf8))
                Self.exit(withError: ExitCode(code.rawValue))
            }
            exit(withError: error)
        }
    }

    private static func runAsync<Command: AsyncParsableCommand>(_ command: Command) async throws {
        var command = command
        try await command.run()
    }
}
