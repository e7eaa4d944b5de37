import Foundation
import PQ
import TestSupport
import Testing

@Suite("Connections, errors, transactions, pipelines")
struct ConnectionTests {
    func pool() async throws -> ConnectionPool { try await TestDatabase.pool(for: "pqconn") }

    @Test func uniqueViolationCarriesSQLStateAndConstraint() async throws {
        let pool = try await pool()
        let table = "uv_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.withConnection { (conn: Connection) async throws in
            try await conn.execute(
                "CREATE TABLE \(identifier: table) (id int, CONSTRAINT \(identifier: table + "_pkey") PRIMARY KEY (id))"
            )
            try await conn.execute("INSERT INTO \(identifier: table) VALUES (\(Int32(1)))")
            let error = await #expect(throws: PQError.self) {
                try await conn.execute("INSERT INTO \(identifier: table) VALUES (\(Int32(1)))")
            }
            #expect(error?.sqlState == .uniqueViolation)
            #expect(error?.constraint == "\(table)_pkey")
            #expect(error?.server?.detail?.contains("already exists") == true)
            // The detail holds the duplicate value: kept out of the description.
            #expect(error?.description.contains("(id)=(1)") == false)
            #expect(await conn.isUsable)
        }
    }

    @Test func transactionRollsBackOnThrow() async throws {
        struct Boom: Error {}
        let pool = try await pool()
        let table = "tx_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.query("CREATE TABLE \(identifier: table) (v int)")
        await #expect(throws: Boom.self) {
            try await pool.withTransaction { conn in
                try await conn.execute("INSERT INTO \(identifier: table) VALUES (\(Int32(1)))")
                throw Boom()
            }
        }
        _ = try await pool.withTransaction { conn in
            try await conn.execute("INSERT INTO \(identifier: table) VALUES (\(Int32(2)))")
        }
        #expect(try await pool.query("SELECT array_agg(v) FROM \(identifier: table)").scalar([Int32].self) == [2])
    }

    @Test func retryHelperRetriesSerializationFailures() async throws {
        let pool = try await pool()
        let attempts = Counter()
        let value = try await withTransientRetry {
            let n = await attempts.next()
            if n < 3 {
                // A real 40001 from the server.
                try await pool.query(
                    "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$")
            }
            return n
        }
        #expect(value == 3)
        // Other errors are not retried.
        let once = Counter()
        await #expect(throws: PQError.self) {
            try await withTransientRetry {
                _ = await once.next()
                try await pool.query("SELECT 1/0")
            }
        }
        #expect(await once.value == 1)
    }

    @Test func pipelineSendsManyStatementsInOneRoundTrip() async throws {
        let pool = try await pool()
        try await pool.withConnection { (conn: Connection) async throws in
            let results = try await conn.pipeline(
                ["SELECT \(1) AS a", "SELECT \("two") AS b", "SELECT 1/0", "SELECT \(4) AS d"],
                mode: .eachOwnTransaction)
            #expect(results.count == 4)
            #expect(try results[0].get().scalar(Int.self) == 1)
            #expect(try results[1].get().scalar(String.self) == "two")
            #expect((try? results[2].get()) == nil)
            #expect(try results[3].get().scalar(Int.self) == 4)
            // One transaction: a failure rolls back the whole batch.
            let table = "pl_\(UInt32.random(in: 0...UInt32.max))"
            try await conn.execute("CREATE TABLE \(identifier: table) (v int)")
            let atomic = try await conn.pipeline([
                "INSERT INTO \(identifier: table) VALUES (\(Int32(1)))", "SELECT 1/0",
                "INSERT INTO \(identifier: table) VALUES (\(Int32(2)))",
            ])
            #expect((try? atomic[0].get()) != nil)
            #expect((try? atomic[1].get()) == nil)
            #expect((try? atomic[2].get()) == nil)
            #expect(try await conn.query("SELECT count(*) FROM \(identifier: table)").scalar(Int.self) == 0)
            #expect(try await conn.query("SELECT 5").scalar(Int.self) == 5)
        }
    }

    @Test func notificationArrives() async throws {
        let pool = try await pool()
        let listener = try await Connection.connect(pool.config)
        let channel = "chan_\(UInt32.random(in: 0...UInt32.max))"
        try await listener.listen(channel)
        let waiting = Task { try await listener.waitForNotification(timeout: .seconds(30)) }
        try await pool.withConnection { try await $0.notify(channel, payload: "hello ✓") }
        let note = try #require(try await waiting.value)
        #expect(note.channel == channel)
        #expect(note.payload == "hello ✓")
        await listener.close()
    }

    @Test func waitWithoutNotificationReturnsAtItsTimeout() async throws {
        let pool = try await pool()
        let listener = try await Connection.connect(pool.config)
        try await listener.listen("nobody_sends_here")
        let clock = ContinuousClock()
        let start = clock.now
        let note = try await listener.waitForNotification(timeout: .milliseconds(300))
        let waited = clock.now - start
        #expect(note == nil)
        #expect(waited >= .milliseconds(300))
        await listener.close()
    }

    @Test func cancellingTheTaskCancelsTheQuery() async throws {
        let pool = try await pool()
        let marker = "cancel-me-\(UInt32.random(in: 0...UInt32.max))"
        let task = Task { try await pool.query("SELECT pg_sleep(60), \(marker)::text") }
        // Cancel once the statement is running on the server.
        let running = try await eventually {
            try await pool.query(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(60)%'  AND pid <> pg_backend_pid()"
            ).scalar(Int.self) > 0 ? true : nil
        }
        #expect(running == true)
        task.cancel()
        let result = await task.result
        let error = try #require(result.failure as? PQError)
        #expect(error.code == .cancelled)
        #expect(error.sqlState == .queryCanceled)
        // The connection went back to the pool usable.
        #expect(try await pool.query("SELECT 7").scalar(Int.self) == 7)
    }

    @Test func badTargetGivesAClearError() async throws {
        let config = ConnectionConfig("postgresql://nobody:s3cr3t-pw@127.0.0.1:1/nowhere", connectTimeoutSeconds: 2)
        let error = await #expect(throws: PQError.self) { try await Connection.connect(config) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("127.0.0.1") == true)
        #expect(error?.message.contains("s3cr3t-pw") == false)
        #expect(error?.message.contains("scripts/db-up") == true)
    }

    @Test func wrongPasswordIsReportedWithoutThePassword() async throws {
        let pool = try await pool()
        let role = "gl_pw_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.query("CREATE ROLE \(identifier: role) LOGIN PASSWORD 'right-one'")
        defer { Task { _ = try? await pool.query("DROP ROLE IF EXISTS \(identifier: role)") } }
        let port = try await pool.query("SELECT current_setting('port')").scalar(String.self)
        let secret = "Wr0ng-Pa55word"
        let config = ConnectionConfig(
            "postgresql://\(role):\(secret)@127.0.0.1:\(port)/postgres", connectTimeoutSeconds: 5)
        let error = await #expect(throws: PQError.self) { try await Connection.connect(config) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("password authentication failed") == true)
        #expect(error?.message.contains(secret) == false)
        #expect(String(describing: error).contains(secret) == false)
        #expect(config.description.contains(secret) == false)
    }

    @Test func redactionHidesPasswordsInEveryForm() {
        #expect(ConnectionConfig.redact("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db")
        #expect(ConnectionConfig.redact("host=h password=pw dbname=x") == "host=h password=*** dbname=x")
        #expect(ConnectionConfig.redact("host=h password='p w' dbname=x") == "host=h password=*** dbname=x")
        #expect(ConnectionConfig.redact("postgresql://h/db?password=pw&x=1") == "postgresql://h/db?password=***&x=1")
        #expect(ConnectionConfig("postgresql://u:pw@h/db").scrub("failed for pw at h") == "failed for *** at h")
    }
}

actor Counter {
    private(set) var value = 0
    func next() -> Int {
        value += 1
        return value
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
