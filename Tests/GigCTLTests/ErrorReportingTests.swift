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

    func register(_ id: String, name: String, _ db: [String]) -> [String] {
        ["client", "register", "--id", id, "--name", name, "--country", "DE", "--payment-verified", "--json"] + db
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
        let (exit, stderr) = await gigctl(register(client, name: "Other", db))
        #expect(exit == 65)
        let object = try errorObject(stderr)
        #expect(object["code"] == .string("ALREADY_REGISTERED"))
        #expect(object["rule"] == .string("ALREADY_REGISTERED"))
        #expect(object["command"] == .string("RegisterClient"))
        #expect(object["stream"] == .string("client-\(client)"))
        #expect(object["exitCode"] == .number(65))
        // Text mode is unchanged: `error: CODE: message`.
        let text = await gigctl(Array(register(client, name: "Other", db).filter { $0 != "--json" }))
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
}
