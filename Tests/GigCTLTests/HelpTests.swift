import ArgumentParser
import Testing

@testable import GigCTLCore

@Suite("gigctl --help teaches")
struct HelpTests {
    @Test func rootHelpListsSubcommandsDatabaseChoiceAndExitCodes() {
        let help = GigCTL.helpMessage(columns: 400)
        for word in [
            "migrate", "status", "version", "DATABASE_URL", "READ_DATABASE_URL", "Exit codes", "69", "78",
            "scripts/db-up",
        ] {
            #expect(help.contains(word), "root help lacks \(word)")
        }
    }

    @Test(arguments: [
        (
            MigrateCommand.self as any ParsableCommand.Type,
            ["advisory lock", "SHA-256", "edited", "gigctl migrate status"]
        ),
        (MigrateApply.self, ["--database-url", "--json"]),
        (MigrateStatus.self, ["--check", "pending"]),
        (StatusCommand.self, ["oldest open transaction", "--json"]),
        (VersionCommand.self, ["version"]),
        (SimulateCommand.self, ["--seed", "price war", "--scale"]),
        (ProjectionsStatus.self, ["Lag", "reset"]),
        (ProjectionsRun.self, ["--follow", "lease", "--durable-commits", "synchronous_commit"]),
        (ProjectionsReset.self, ["checkpoint"]),
        (ProjectionsSkip.self, ["--position", "--reason", "on the record", "rebuild"]),
        (ProjectionsGroup.self, ["rebuild", "verify", "Examples"]),
        (
            ProjectionsRebuild.self,
            ["shadow", "resumes", "--abandon", "--restart", "never an empty", "ETA", "--archive", "--skip-archived"]
        ),
        (ProjectionsVerify.self, ["scratch", "Exits 0", "differ", "rebuild", "--archive"]),
        (ReplayCommand.self, ["--from", "--stream", "--dry-run", "idempotent", "checkpoint"]),
        (StreamsGroup.self, ["list", "show", "state", "Examples"]),
        (StreamsList.self, ["--category", "--since", "--until", "--after", "--limit", "next page"]),
        (StreamsShow.self, ["correlation", "causation", "schema version", "--json"]),
        (StreamsState.self, ["--at-version", "--at-time", "--business-time", "JSON"]),
        (LogGroup.self, ["tail", "partitions"]),
        (LogPartitionsGroup.self, ["list", "prepare", "archive", "--archive FILE", "docs/OPERATIONS.md"]),
        (LogPartitionsList.self, ["attached", "detaching", "archived", "SHA-256"]),
        (LogPartitionsPrepare.self, ["partitions_ahead", "Idempotent"]),
        (LogPartitionsArchive.self, ["CONCURRENTLY", "--output", "--drop-table", "SHA-256", "transactionId", "again"]),
        (LogTail.self, ["--from", "--category", "--type", "--follow", "gap-safe", "NDJSON"]),
        (AuditMatching.self, ["four-fifths", "--workers", "one snapshot", "stderr", "--verbose", "--html"]),
        (ExportCommand.self, ["NDJSON", "position", "COPY", "--output"]),
        (ImportCommand.self, ["empty", "--allow-non-empty", "COPY", "all or nothing"]),
        (PrivacyGroup.self, ["forget", "export", "rotate-master-key", "GIGLEDGER_MASTER_KEY_FILE", "exits 78"]),
        (
            PrivacyForget.self,
            ["--reason", "one transaction", "[erased]", "again changes nothing", "--master-key-file"]
        ),
        (PrivacyExport.self, ["Art. 15/20", "contract", "JSON"]),
        (PrivacyErasures.self, ["outside the database's backups", "reapply-erasures"]),
        (PrivacyReapplyErasures.self, ["--list", "restored", "PersonalDataErased"]),
        (PrivacyRotateMasterKey.self, ["--new-key-file", "one transaction", "refused"]),
        (PrivacyNewMasterKey.self, ["GIGLEDGER_MASTER_KEY_FILE", "secret"]),
    ])
    func everySubcommandHasHelp(command: any ParsableCommand.Type, mentions: [String]) {
        let help = GigCTL.helpMessage(for: command, columns: 400)
        #expect(help.contains("USAGE:"))
        for word in mentions { #expect(help.contains(word), "help of \(command) lacks \(word)") }
        // One-sentence abstracts that start with a verb.
        let abstract = command.configuration.abstract
        #expect(!abstract.isEmpty && abstract.hasSuffix("."))
    }

    @Test func unknownOptionIsAUsageError() {
        #expect(throws: (any Error).self) { try GigCTL.parseAsRoot(["status", "--no-such-flag"]) }
        let code = GigCTL.exitCode(for: ValidationError("bad"))
        #expect(code.rawValue == 64)
    }
}
