import ArgumentParser
import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ

/// `gigctl privacy`: the data subjects' rights (GDPR Art. 15, 17, 20) and the master key.
struct PrivacyGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy", abstract: "Forget or export a person's data, and manage the master key.",
        discussion: """
            Personal fields (names and free texts) are stored sealed with a data key per \
            freelancer or client; forgetting a person destroys their key, so their personal \
            fields read as "[erased]" everywhere while the log stays intact. See PRIVACY.md.

            The master key wrapping the data keys: --master-key-file, else \
            GIGLEDGER_MASTER_KEY_FILE, else GIGLEDGER_MASTER_KEY (base64), else the local \
            cluster's .gigledger/master-key. A missing or wrong key exits 78 before anything is done.
            """,
        subcommands: [
            PrivacyForget.self, PrivacyExport.self, PrivacyErasures.self, PrivacyReapplyErasures.self,
            PrivacyRotateMasterKey.self, PrivacyNewMasterKey.self,
        ])
}

/// `freelancer` or `client`.
enum SubjectKind: String, ExpressibleByArgument, CaseIterable {
    case freelancer
    case client
}

func dataSubject(_ kind: SubjectKind, _ id: String) throws -> DataSubject {
    do { return try DataSubject(parsing: "\(kind.rawValue):\(id.lowercased())") } catch {
        throw ValidationError("\(id.prefix(60)) is not a \(kind.rawValue) id (a UUID).")
    }
}

/// Where a subject's id is given as one argument: `freelancer:<uuid>`, `client:<uuid>`, or a bare
/// UUID looked up as either.
func parseSubject(_ text: String) throws -> DataSubject {
    do { return try DataSubject(parsing: text.lowercased()) } catch {
        throw ValidationError("\(text.prefix(60)) is not freelancer:<uuid> or client:<uuid>.")
    }
}

/// `gigctl privacy forget`
struct PrivacyForget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget", abstract: "Forget a freelancer or client: destroy their data key (GDPR Art. 17).",
        discussion: """
            In one transaction: appends PersonalDataErased (subject, reason code, time) to \
            privacy-<id> and deletes the subject's data key. Their personal fields then read as \
            "[erased]" in every reader; ids, amounts, ratings and states stay, so contracts, \
            payments and read models are unchanged. Running it again changes nothing.

            Example:
              gigctl privacy forget freelancer 3f2a9c1e-... --reason gdpr-art17
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "freelancer or client.") var kind: SubjectKind
    @Argument(help: "Their id.") var id: String
    @Option(help: "Why, as a code (lower-case letters, digits, hyphens), e.g. gdpr-art17. Never free text.")
    var reason: String
    @Option(help: "Who asks, recorded as the event's actor: admin:<name>.") var actor = "admin:gigctl"

    func validate() throws {
        _ = try dataSubject(kind, id)
        do { try PrivacyDecider.validateReason(reason) } catch { throw ValidationError(error.message) }
        guard (try? ActorRef(parsing: actor)).map({ if case .admin = $0 { true } else { false } }) == true else {
            throw ValidationError("--actor must be admin:<name>.")
        }
    }

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let subject = try dataSubject(kind, id)
            let outcome = try await global.withPool(maxConnections: 2) { pool in
                try await global.vault(pool).forget(subject, reason: reason, actor: try ActorRef(parsing: actor))
            }
            if global.json {
                try Output.json(outcome)
            } else {
                Output.line(
                    outcome.erased
                        ? "\(subject): forgotten (PersonalDataErased at position \(outcome.position); data key deleted)"
                        : "\(subject): already forgotten (position \(outcome.position)); nothing to do")
            }
        }
    }
}

/// `gigctl privacy export`
struct PrivacyExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print everything held about a person as one JSON document (Art. 15/20).",
        discussion: """
            Their own events, the events that name them, and the whole of every contract they \
            are a party of, personal fields opened (or "[erased]" once forgotten), in log order. \
            Always JSON.

            After partitions of the log were archived (`gigctl log partitions archive`), what \
            they hold is held too: pass each archive with --archive FILE (read back for the \
            export, checked against its SHA-256, then detached again; needs the primary and the \
            owner's role). Without them the export is refused, unless --skip-archived.

            Example:
              gigctl privacy export freelancer:3f2a9c1e-... > subject.json
              gigctl privacy export freelancer:3f2a9c1e-... --archive archive/events_1.ndjson > subject.json
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "freelancer:<uuid> or client:<uuid>.") var subject: String
    @Option(
        help: ArgumentHelp(
            "Read this archived partition back into the log for the export (repeatable; see `gigctl log partitions`).",
            valueName: "file"))
    var archive: [String] = []
    @Flag(help: "Export from the log as it stands, without the archived partitions not given with --archive.")
    var skipArchived = false

    func validate() throws { _ = try parseSubject(subject) }

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let subject = try parseSubject(subject)
            let export = { (pool: ConnectionPool) in
                try await withArchives(
                    archive, skipMissing: skipArchived, store: EventStore(pool: pool, logger: global.logger)
                ) { try await global.vault(pool).export(subject) }
            }
            // Reading archives back attaches tables: that needs the primary, not a standby.
            let document =
                archive.isEmpty
                ? try await global.withReadPool(maxConnections: 1, export)
                : try await global.withPool(maxConnections: 2, export)
            try Output.json(document)
        }
    }
}

/// `gigctl privacy erasures`
struct PrivacyErasures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erasures", abstract: "List the people forgotten: subject, reason code, time.",
        discussion: """
            Keep a copy of `gigctl privacy erasures --json` outside the database's backups after \
            every forget: after a restore to an earlier moment, `privacy reapply-erasures --list` \
            forgets them again (PRIVACY.md, "Backups").
            """)
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let erasures = try await global.withReadPool(maxConnections: 1) { pool in
                try await global.vault(pool).erasures()
            }
            if global.json {
                try Output.json(erasures)
            } else {
                for erasure in erasures {
                    Output.line("\(Output.timestamp(erasure.erasedAt))  \(erasure.subject)  \(erasure.reason)")
                }
            }
        }
    }
}

/// `gigctl privacy reapply-erasures`
struct PrivacyReapplyErasures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reapply-erasures", abstract: "After a restore: forget again everyone forgotten before.",
        discussion: """
            Forgets again every subject whose PersonalDataErased the log holds, and every subject \
            in --list (the output of `privacy erasures --json`, kept outside the backups), so no \
            data key a backup brought back survives. Run it on a restored database before it \
            serves anything (docs/OPERATIONS.md).
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "A file written by `gigctl privacy erasures --json`.") var list: String?
    @Option(help: "Recorded as the events' actor: admin:<name>.") var actor = "admin:gigctl"

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            var also: [Erasure] = []
            if let list {
                guard let data = FileManager.default.contents(atPath: list) else {
                    throw CLIError(.usage, "--list: cannot read \(list).")
                }
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .iso8601
                do { also = try decoder.decode([Erasure].self, from: data) } catch {
                    throw CLIError(.usage, "--list: \(list) is not the output of `gigctl privacy erasures --json`.")
                }
            }
            let actor = try ActorRef(parsing: actor)
            let outcomes = try await global.withPool(maxConnections: 2) { pool in
                try await global.vault(pool).reapplyErasures(also: also, actor: actor)
            }
            if global.json {
                try Output.json(outcomes)
            } else {
                let again = outcomes.filter(\.erased).count
                Output.line(
                    "\(outcomes.count) erasure(s) applied: \(again) forgotten again (new PersonalDataErased), \(outcomes.count - again) already in place (any restored key deleted)"
                )
            }
        }
    }
}

/// `gigctl privacy rotate-master-key`
struct PrivacyRotateMasterKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-master-key", abstract: "Re-wrap every data key with a new master key.",
        discussion: """
            With the current key configured as usual, re-wraps every data key with the key in \
            --new-key-file in one transaction and records it; then configure the new key (the old \
            one is refused from then on). Make the new key with `gigctl privacy new-master-key`.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "File holding the new master key (base64).") var newKeyFile: String

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let newKey = try MasterKey.configured(file: newKeyFile, environment: [:], searchingFrom: nil)
            let count = try await global.withPool(maxConnections: 2) { pool in
                try await global.vault(pool).rotateMasterKey(to: newKey)
            }
            if global.json {
                struct Printed: Encodable {
                    let rewrapped: Int
                    let masterKeyId: String
                }
                try Output.json(Printed(rewrapped: count, masterKeyId: newKey.id))
            } else {
                Output.line("\(count) data key(s) re-wrapped with master key \(newKey.id); configure it now.")
            }
        }
    }
}

/// `gigctl privacy new-master-key`
struct PrivacyNewMasterKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-master-key", abstract: "Print a new random master key (base64).",
        discussion: """
            The line is a secret: store it in a file readable by the service only (never in the \
            database or its backups) and name it in GIGLEDGER_MASTER_KEY_FILE.
            """)

    func run() async throws {
        Output.line(MasterKey.generate())
    }
}
