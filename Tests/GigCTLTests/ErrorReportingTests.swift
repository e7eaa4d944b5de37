import ArgumentParser
import EventStore
import Foundation
import GigLedger
import PQ
import Synchronization
import TestSupport
import Testing

@testable import GigCTLCore

/// What gigctl prints on stderr, captured for one test's task.
final class CapturedStderr: Sendable {
    private let data = Mutex(Data())
    func append(_ bytes: Data) { data.withLock { $0.append(bytes) } }
    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}

/// One exit code and, under `--json`, one error object per category of the README's table.
@Suite("gigctl reports every error once: its exit code, and under --json one JSON object on stderr")
struct ErrorReportingTests {
    /// Runs gigctl in this task; returns the exit code and what went to stderr.
    func gigctl(_ arguments: [String]) async -> (exit: Int32, stderr: String) {
        let captured = CapturedStderr()
        let exit = await Output.$standardError.withValue(
            { captured.append($0) },
            operation: { () async -> Int32 in
                do {
                    var command = try GigCTL.parseAsRoot(arguments)
                    if let asyncCommand = command as? any AsyncParsableCommand {
                        try await Self.run(asyncCommand)
                    } else {
                        try command.run()
                    }
                    return 0
                } catch {
                    return GigCTL.exitCode(for: error).rawValue
                }
            })
        return (exit, captured.text)
    }

    private static func run<C: AsyncParsableCommand>(_ command: C) async throws {
        var copy = command
        try await copy.run()
    }

    /// The one JSON object a `--json` failure wrote to stderr (and nothing else).
    func errorObject(_ stderr: String) throws -> [String: JSONValue] {
        let lines = stderr.split(separator: "\n")
        try #require(lines.count == 1, "one line on stderr, got: \(stderr)")
        guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: Data(lines[0].utf8)) else {
            Issue.record("stderr is not a JSON object: \(stderr)")
            return [:]
        }
        return object
    }

    func register(_ id: String, name: String, country: String = "DE", _ db: [String]) -> [String] {
        ["client", "register", "--id", id, "--name", name, "--country", country, "--payment-verified", "--json"] + db
    }

    @Test func malformedInputExits64NamingTheField() async throws {
        let pool = try await TestDatabase.pool(for: "clierrors")
        let (exit, stderr) = await gigctl(
            ["bid", "place", "--gig", "not-a-uuid", "--freelancer", UUID().uuidString, "--amount", "10", "--days", "1"]
                + ["--json", "--database-url", pool.config.target])
        #expect(exit == 64)
        let object = try errorObject(stderr)
        #expect(object["code"] == .string("INVALID_COMMAND"))
        #expect(object["exitCode"] == .number(64))
        #expect(object["field"] == .string("gigId"))
        #expect(
            object["message"].map { if case .string(let text) = $0 { text.contains("gigId") } else { false } } == true)
    }

    @Test func aRuleRefusalExits65WithItsRuleCommandAndStream() async throws {
        let pool = try await TestDatabase.pool(for: "clierrors")
        let db = ["--database-url", pool.config.target]
        let client = UUID().uuidString.lowercased()
        #expect(await gigctl(register(client, name: "Acme", db)).exit == 0)
        // Another country (names are personal data, which no rule compares).
        let (exit, stderr) = await gigctl(register(client, name: "Acme", country: "FR", db))
        #expect(exit == 65)
        let object = try errorObject(stderr)
        #expect(object["code"] == .string("ALREADY_REGISTERED"))
        #expect(object["rule"] == .string("ALREADY_REGISTERED"))
        #expect(object["command"] == .string("RegisterClient"))
        #expect(object["stream"] == .string("client-\(client)"))
        #expect(object["exitCode"] == .number(65))
        // Text mode is unchanged: `error: CODE: message`.
        let text = await gigctl(Array(register(client, name: "Acme", country: "FR", db).filter { $0 != "--json" }))
        #expect(text.exit == 65)
        #expect(text.stderr.hasPrefix("error: ALREADY_REGISTERED: "))
    }

    @Test func aConflictExits75WithStreamExpectedAndActual() async throws {
        // A real conflict from the store, as MarketplaceService reports it after its retries.
        let pool = try await TestDatabase.pool(for: "clierrors")
        let store = EventStore(pool: pool)
        let stream = try StreamName(category: "conflicttest", id: UUID().uuidString.lowercased())
        let metadata = EventMetadata(actor: "system", commandId: UUID())
        try await store.append(
            [NewEvent(type: "Fact", data: PGJSON(text: "{}"))], to: stream, expecting: .noStream, metadata: metadata)
        let conflict = await #expect(throws: EventStoreError.self) {
            try await store.append(
                [NewEvent(type: "Fact", data: PGJSON(text: "{}"))], to: stream, expecting: .exactly(5),
                metadata: EventMetadata(actor: "system", commandId: UUID()))
        }
        let commandError = CommandError(.conflict, "gave up", cause: conflict)
        let reported = try #require(CLIError.reporting(commandError) as? CLIError)
        #expect(reported.exit == .conflict)
        guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: reported.jsonObject()) else {
            Issue.record("not an object")
            return
        }
        #expect(object["code"] == .string("CONCURRENCY_CONFLICT"))
        #expect(object["exitCode"] == .number(75))
        #expect(object["stream"] == .string(stream.rawValue))
        #expect(object["expected"] == .number(5))
        #expect(object["actual"] == .number(1))
    }

    @Test func anUnreachableServerExits69() async throws {
        let (exit, stderr) = await gigctl(
            register(UUID().uuidString, name: "Acme", ["--database-url", "postgresql://u:hunter2@127.0.0.1:1/x"]))
        #expect(exit == 69)
        let object = try errorObject(stderr)
        #expect(object["code"] == .string("DATABASE_UNAVAILABLE"))
        #expect(object["exitCode"] == .number(69))
        #expect(!stderr.contains("hunter2"))
    }

    @Test func anUnmigratedDatabaseExits78ForCommandsAndReads() async throws {
        let empty = try await TestDatabase.fresh("clinoschema", migrated: false)
        let db = ["--database-url", empty.config.target]
        for arguments in [register(UUID().uuidString, name: "Acme", db), ["streams", "list", "--json"] + db] {
            let (exit, stderr) = await gigctl(arguments)
            #expect(exit == 78, "\(arguments[0]) \(arguments[1])")
            let object = try errorObject(stderr)
            #expect(object["code"] == .string("NOT_MIGRATED"))
            #expect(object["exitCode"] == .number(78))
            #expect(
                object["message"].map {
                    if case .string(let text) = $0 { text.contains("gigctl migrate") } else { false }
                } == true)
        }
    }

    @Test func everyCategoryHasOneExitCodeFromTheReadmeTable() {
        let expected: [ErrorCategory: Int32] = [
            .malformed: 64, .rejected: 65, .notFound: 65, .forbidden: 65, .conflict: 75, .unavailable: 69,
            .schemaMissing: 78, .internalError: 70,
        ]
        for category in ErrorCategory.allCases {
            #expect(CLIError.Exit(category).rawValue == expected[category], "\(category)")
        }
    }

    @Test func noMasterKeyConfiguredIsMissingAndExits78() {
        // No --master-key-file, no environment, no local cluster's key file to fall back on.
        do {
            _ = try MasterKey.configured(file: nil, environment: [:], searchingFrom: nil)
            Issue.record("a master key was found where none is configured")
        } catch {
            #expect(error.code == .masterKeyMissing)
            #expect(CLIError.Exit(error.classification.category).rawValue == 78)
        }
    }

    @Test func aWrongOrUnreadableMasterKeyExits78AndWritesNothing() async throws {
        let pool = try await TestDatabase.fresh("climasterkey")
        let db = ["--database-url", pool.config.target]
        // The database learns the right key on first use.
        #expect(await gigctl(register(UUID().uuidString.lowercased(), name: "Acme", db)).exit == 0)
        let wrongFile = FileManager.default.temporaryDirectory.appendingPathComponent("wrong-\(UUID()).key").path
        try MasterKey.generate().write(toFile: wrongFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: wrongFile) }
        let client = UUID().uuidString.lowercased()
        let wrong = await gigctl(register(client, name: "Never Stored", db + ["--master-key-file", wrongFile]))
        #expect(wrong.exit == 78)
        #expect(try errorObject(wrong.stderr)["code"] == .string("MASTER_KEY_WRONG"))
        let unreadable = await gigctl(
            register(client, name: "Never Stored", db + ["--master-key-file", "/nonexistent/key"]))
        #expect(unreadable.exit == 78)
        #expect(try errorObject(unreadable.stderr)["code"] == .string("MASTER_KEY_INVALID"))
        let forget = await gigctl(
            ["privacy", "forget", "client", client, "--reason", "gdpr-art17", "--json"] + db + [
                "--master-key-file", wrongFile,
            ])
        #expect(forget.exit == 78)
        #expect(
            try await pool.query("SELECT count(*) FROM ledger.events WHERE stream_id = \("client-\(client)")")
                .scalar(Int64.self) == 0)
        await pool.close()
    }

    @Test func privacyForgetIsIdempotentAndKnowsNoOneUnregistered() async throws {
        let pool = try await TestDatabase.fresh("cliforget")
        let db = ["--database-url", pool.config.target]
        let client = UUID().uuidString.lowercased()
        #expect(await gigctl(register(client, name: "Clara", db)).exit == 0)
        let forget = ["privacy", "forget", "client", client, "--reason", "gdpr-art17", "--json"] + db
        #expect(await gigctl(forget).exit == 0)
        #expect(await gigctl(forget).exit == 0)
        #expect(
            try await pool.query("SELECT count(*) FROM ledger.events WHERE event_type = 'PersonalDataErased'")
                .scalar(Int64.self) == 1)
        let unknown = await gigctl(
            ["privacy", "forget", "freelancer", UUID().uuidString, "--reason", "gdpr-art17", "--json"] + db)
        #expect(unknown.exit == 65)
        #expect(try errorObject(unknown.stderr)["code"] == .string("SUBJECT_NOT_FOUND"))
        let freeText = await gigctl(["privacy", "forget", "client", client, "--reason", "She asked nicely"] + db)
        #expect(freeText.exit == 64)
        #expect(await gigctl(["privacy", "export", "client:\(client)"] + db).exit == 0)
        await pool.close()
    }
}
