import EventStore
import Foundation
import GigLedger
import PQ
import Projections
import TestSupport
import Testing

@testable import EventStore

/// The roles of the log enforced end to end: real logins with passwords over TCP (not SET ROLE),
/// through the libraries and through gigctl; passwords never printed; the server on loopback.
@Suite("Roles, passwords and listening addresses, end to end", .serialized)
struct SecurityTests {
    static let passwords = [
        "reader": "Rd-\(UUID().uuidString.prefix(8))-s3cret", "writer": "Wr-\(UUID().uuidString.prefix(8))-s3cret",
        "projector": "Pj-\(UUID().uuidString.prefix(8))-s3cret",
    ]

    /// Creates a login role per GigLedger role, with a password.
    func logins(_ cluster: ThrowawayCluster) async throws -> [String: ConnectionConfig] {
        let admin = try await Connection.connect(cluster.config)
        var configs: [String: ConnectionConfig] = [:]
        for (role, password) in Self.passwords {
            let login = "gl_\(role)_login"
            try await admin.execute("CREATE ROLE \(identifier: login) LOGIN IN ROLE \(identifier: "gigledger_\(role)")")
            // ALTER ROLE … PASSWORD takes no bind parameter: hand both values over as settings.
            try await admin.query(
                "SELECT set_config('gl.login', \(login), false), set_config('gl.pw', \(password), false)")
            try await admin.execute(
                """
                DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', current_setting('gl.login'), current_setting('gl.pw')); END $$
                """)
            // Deployment practice: a login acts as its group role, so what it creates (the
            // projector's read-model tables) falls under that role's default privileges.
            try await admin.execute(
                """
                DO $$ BEGIN EXECUTE format('ALTER ROLE %I SET role = %L', current_setting('gl.login'), 'gigledger_' || split_part(current_setting('gl.login'), '_', 2)); END $$
                """)
            configs[role] = ConnectionConfig(
                cluster.tcpURL(user: login, password: password), applicationName: "gigledger-security",
                connectTimeoutSeconds: 5)
        }
        await admin.close()
        return configs
    }

    @Test func eachRoleCanDoItsJobAndNothingMore() async throws {
        let cluster = try await ThrowawayCluster.start("roles")
        defer { cluster.destroy() }
        // Roles are cluster-wide: this cluster is ours alone.
        let configs = try await logins(cluster)
        let superuser = ConnectionPool(config: cluster.config, maxConnections: 2)
        let writer = ConnectionPool(config: try #require(configs["writer"]), maxConnections: 2)
        let reader = ConnectionPool(config: try #require(configs["reader"]), maxConnections: 2)
        let projector = ConnectionPool(config: try #require(configs["projector"]), maxConnections: 2)
        defer { Task { for pool in [superuser, writer, reader, projector] { await pool.close() } } }

        // The writer appends through ledger.append and reads the log …
        let service = MarketplaceService(store: EventStore(pool: writer), masterKey: .forTests)
        let client = UUID().uuidString.lowercased()
        let outcome = try await service.execute(
            try CommandInput(fields: [
                "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client),
                "name": "Acme", "country": "DE",
            ]).command())
        #expect(outcome.events.count == 1)
        #expect(try await writer.query("SELECT count(*) FROM ledger.events").scalar(Int.self) == 1)
        // … but cannot alter, delete, forge or truncate events, or move checkpoints.
        for statement: SQL in [
            "UPDATE ledger.events SET data = '{}'", "DELETE FROM ledger.events", "TRUNCATE ledger.events",
            "INSERT INTO ledger.events (stream_id, stream_version, category, event_type, schema_version, data, metadata, occurred_at) VALUES ('x-1', 1, 'x', 'Forged', 1, '{}', '{}', now())",
            "UPDATE ledger.commands SET result = '{}'", "UPDATE ledger.projections SET global_position = 0",
            "CREATE TABLE read_models.evil (x int)",
        ] {
            #expect(
                await Self.sqlState(writer, statement) == SQLState.insufficientPrivilege.rawValue,
                "writer: \(statement.text)")
        }

        // The projector reads the log and keeps its read models and checkpoints …
        let engine = ProjectionEngine(
            store: EventStore(pool: projector), projectors: ShippedProjectors.all, owner: "security")
        try await engine.prepare()
        let applied = try await engine.catchUpAll()
        #expect(applied.values.reduce(0, +) >= 0)
        try await engine.releaseLeases()
        // … but cannot append or write the log.
        let append = try EventStore.appendStatementForTests(stream: "client-\(UUID().uuidString.lowercased())")
        #expect(await Self.sqlState(projector, append) == SQLState.insufficientPrivilege.rawValue)
        for statement: SQL in [
            "UPDATE ledger.events SET data = '{}'", "DELETE FROM ledger.events",
            "INSERT INTO ledger.events (stream_id, stream_version, category, event_type, schema_version, data, metadata, occurred_at) VALUES ('x-1', 1, 'x', 'Forged', 1, '{}', '{}', now())",
            "INSERT INTO ledger.commands (command_id, result) VALUES (gen_random_uuid(), '{}')",
        ] {
            #expect(
                await Self.sqlState(projector, statement) == SQLState.insufficientPrivilege.rawValue,
                "projector: \(statement.text)")
        }

        // The reader reads read models only: not the log, and it cannot append or write.
        #expect(
            try await reader.query("SELECT count(*) FROM read_models.projection_status").scalar(Int.self)
                == ShippedProjectors.all.count)
        #expect(try await reader.query("SELECT count(*) FROM read_models.competition_gigs_v1").scalar(Int.self) == 0)
        #expect(
            await Self.sqlState(reader, "SELECT count(*) FROM ledger.events") == SQLState.insufficientPrivilege.rawValue
        )
        #expect(await Self.sqlState(reader, append) == SQLState.insufficientPrivilege.rawValue)
        #expect(
            await Self.sqlState(reader, "DELETE FROM read_models.competition_gigs_v1")
                == SQLState.insufficientPrivilege.rawValue)
        #expect(
            await Self.sqlState(reader, "UPDATE ledger.projections SET global_position = 0")
                == SQLState.insufficientPrivilege.rawValue)

        // Through gigctl, as the reader, with the password in --database-url: refused, the log
        // unchanged, and the password printed nowhere (text and JSON, verbose logs included).
        let gigctl = try Tools.gigctl()
        let readerURL = try #require(configs["reader"]).target
        let password = try #require(Self.passwords["reader"])
        let before = try await superuser.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        for extra in [[], ["--json"], ["--verbose"]] {
            let result = try await ChildProcess.run(
                gigctl,
                ["client", "register", "--name", "Mallory", "--country", "DE", "--database-url", readerURL] + extra)
            #expect(result.exitCode != 0 && result.exitCode != nil)
            #expect(!result.stdout.contains(password) && !result.stderr.contains(password), "the password was printed")
            #expect(!(result.stdout + result.stderr).isEmpty, "the refusal is explained")
        }
        #expect(try await superuser.query("SELECT count(*) FROM ledger.events").scalar(Int.self) == before)
        // A wrong password, and a status report: still never printed.
        let wrong = cluster.tcpURL(user: "gl_reader_login", password: "Wrong-\(password)")
        for arguments in [
            ["status", "--database-url", wrong], ["status", "--json", "--database-url", wrong],
            ["status", "--verbose", "--database-url", readerURL],
            ["projections", "status", "--json", "--database-url", readerURL],
        ] {
            let result = try await ChildProcess.run(gigctl, arguments)
            #expect(
                !result.stdout.contains(password) && !result.stderr.contains(password),
                "\(arguments[0]) printed the password")
        }
        let refused = try await ChildProcess.run(gigctl, ["status", "--database-url", wrong])
        #expect(refused.exitCode == 69)
    }

    static func sqlState(_ pool: ConnectionPool, _ sql: SQL) async -> String? {
        do {
            try await pool.withTransaction { conn in _ = try await conn.query(sql) }
            return nil
        } catch let error as PQError {
            return error.sqlState?.rawValue
        } catch {
            return "not a database error"
        }
    }

    @Test func theLocalServerListensOnLoopbackOrASocketOnly() async throws {
        let pool = try await TestDatabase.pool(for: "listen", maxConnections: 1)
        let target = pool.config.target
        // Only the cluster scripts/db-up made is ours to judge; a DATABASE_URL elsewhere is not.
        try #require(
            target.contains(".gigledger") || target.contains("/tmp/gigledger-") || target.contains("127.0.0.1")
                || target.contains("localhost"))
        let listen = try await pool.query("SELECT current_setting('listen_addresses')").scalar(String.self)
        let addresses = listen.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(
            addresses.allSatisfy { ["127.0.0.1", "::1", "localhost", ""].contains($0) },
            "listen_addresses = '\(listen)'")
        // And the script that creates the cluster says so.
        let dbUp = try String(contentsOfFile: Tools.repositoryRoot + "/scripts/db-up", encoding: .utf8)
        #expect(dbUp.contains("listen_addresses = '127.0.0.1'"))
        #expect(!dbUp.contains("0.0.0.0") && !dbUp.contains("listen_addresses = '*'"))
    }

    /// scripts/check-sql fails on each way of building SQL from input outside the binds, and
    /// passes the repository as it is.
    @Test func checkSQLCatchesEveryWayAroundTheBinds() async throws {
        let checkSQL = Tools.repositoryRoot + "/scripts/check-sql"
        let clean = try await ChildProcess.run("/usr/bin/env", ["python3", checkSQL])
        #expect(clean.exitCode == 0, "\(clean.stdout)")
        // Spelled in pieces so this file itself holds none of the patterns check-sql looks for.
        let unsafe = "unsafe"
        let literal = "Literal"
        let exec = "PQ" + "exec"
        let script = "execute" + "Script"
        let violations: [(file: String, code: String)] = [
            (
                "Sources/Evil/A.swift",
                "try await conn.query(SQL(\(unsafe)Text: \"SELECT * FROM t WHERE name = '\" + name + \"'\"))"
            ),
            ("Sources/Evil/B.swift", "try await conn.query(\"SELECT \\(\(unsafe)Raw: input)\")"),
            ("Sources/Evil/C.swift", "try await conn.query(SQL(string\(literal): \"DELETE FROM t WHERE id = \" + id))"),
            (
                "Sources/Evil/D.swift",
                "var i = SQL.StringInterpolation(literalCapacity: 0, interpolationCount: 0); i.append\(literal)(input)"
            ),
            ("Sources/Evil/E.swift", "try await conn.\(script)(\"DROP TABLE \\(name)\")"),
            ("Sources/Evil/F.swift", "import " + "CLibPQ"),
            ("Tests/EvilTests/G.swift", "\(exec)Params(conn, text, 0, nil, nil, nil, nil, 0)"),
            ("scripts/evil", "#!/usr/bin/env bash\npsql -d \"$URL\" -c \"DELETE FROM t WHERE name = '$NAME'\""),
            ("scripts/evil2", "#!/usr/bin/env bash\npsql -X -tAc \\\n    \"SELECT 1 WHERE x = '$X'\""),
        ]
        for violation in violations {
            let root = NSTemporaryDirectory().appending("gl-checksql-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(atPath: root) }
            for folder in ["Sources", "Tests", "scripts"] {
                try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
            }
            let path = root + "/" + violation.file
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try violation.code.write(toFile: path, atomically: true, encoding: .utf8)
            // A bound statement beside it is fine.
            try #"try await conn.query("SELECT 1 WHERE name = \(name)")"#.write(
                toFile: root + "/Sources/Fine.swift", atomically: true, encoding: .utf8)
            let result = try await ChildProcess.run("/usr/bin/env", ["python3", checkSQL, "--root", root])
            #expect(result.exitCode == 1, "not caught: \(violation.file): \(violation.code)")
            #expect(result.stdout.contains(violation.file as String), "\(result.stdout)")
            #expect(!result.stdout.contains("Fine.swift"))
        }
    }
}

extension EventStore {
    /// The statement an append sends, for trying it under a role that must not append.
    static func appendStatementForTests(stream: String) throws -> SQL {
        try appendStatement(
            AppendRequest(
                metadata: EventMetadata(actor: "client:x", commandId: UUID()),
                streams: [
                    StreamAppend(
                        stream: try StreamName(validating: stream), expected: .any,
                        events: [
                            NewEvent(type: "Forged", schemaVersion: 1, data: PGJSON(text: "{}"), occurredAt: Date())
                        ])
                ]))
    }
}
