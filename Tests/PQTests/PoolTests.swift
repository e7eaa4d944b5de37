import Foundation
import PQ
import TestSupport
import Testing

@Suite("Connection pool")
struct PoolTests {
    @Test func sixtyFourTasksShareFourConnections() async throws {
        let base = try await TestDatabase.pool(for: "pqpool")
        let pool = ConnectionPool(config: base.config, maxConnections: 4)
        let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
            for i in 0..<64 {
                group.addTask {
                    try await pool.withConnection { (conn: Connection) async throws in
                        let n = try await conn.query("SELECT \(i) + 0 AS v, pg_sleep(0.01)").first?.decode(
                            Int.self, at: 0)
                        #expect(n == i)
                        return try await conn.query("SELECT pg_backend_pid()").scalar(Int32.self)
                    }
                }
            }
            var all: [Int32] = []
            for try await pid in group { all.append(pid) }
            return all
        }
        #expect(pids.count == 64)
        #expect(Set(pids).count <= 4)
        let counts = await pool.counts()
        #expect(counts.open <= 4)
        await pool.close()
    }

    @Test func killedBackendsAreReplaced() async throws {
        let base = try await TestDatabase.fresh("pqkill")
        let pool = ConnectionPool(config: base.config, maxConnections: 3)
        // Open three connections and keep them idle in the pool.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { _ = try await pool.query("SELECT pg_sleep(0.05)") } }
            try await group.waitForAll()
        }
        let before = Set(
            try await pool.query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gigledger-tests' AND pid <> pg_backend_pid()"
            ).rows.map { try $0.decode(Int32.self, at: 0) })
        // The server kills every backend of this database (as a crash or restart would).
        let killer = try await Connection.connect(base.config.withDatabase("postgres"))
        let dbName = try await pool.query("SELECT current_database()").scalar(String.self)
        try await killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(dbName) AND pid <> pg_backend_pid()"
        )
        // Termination is asynchronous: wait until those backends have exited.
        let gone = try await eventually {
            try await killer.query("SELECT count(*) FROM pg_stat_activity WHERE datname = \(dbName)").scalar(Int.self)
                == 0 ? true : nil
        }
        #expect(gone == true)
        await killer.close()
        // Every later call succeeds on fresh connections.
        for i in 0..<10 {
            #expect(try await pool.query("SELECT \(i) AS v").scalar(Int.self) == i)
        }
        let after = try await pool.query("SELECT pg_backend_pid()").scalar(Int32.self)
        #expect(!before.contains(after))
        await pool.close()
    }

    @Test func queryOnAKilledConnectionReportsConnectionLost() async throws {
        let base = try await TestDatabase.pool(for: "pqpool")
        let conn = try await Connection.connect(base.config)
        let pid = await conn.backendPID
        let killer = try await Connection.connect(base.config)
        let sleeping = Task { try await conn.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(200))
        try await killer.execute("SELECT pg_terminate_backend(\(pid))")
        let error = try #require(await sleeping.result.failure as? PQError)
        #expect(error.isConnectionLost)
        #expect(await conn.isUsable == false)
        await killer.close()
    }

    @Test func waitingBorrowerTimesOutClearly() async throws {
        let base = try await TestDatabase.pool(for: "pqpool")
        let pool = ConnectionPool(config: base.config, maxConnections: 1, acquireTimeout: .milliseconds(200))
        let holder = Task { try await pool.query("SELECT pg_sleep(1.5)") }
        try await Task.sleep(for: .milliseconds(300))
        let error = await #expect(throws: PQError.self) { try await pool.query("SELECT 1") }
        #expect(error?.code == .poolTimeout)
        _ = try await holder.value
        #expect(try await pool.query("SELECT 1").scalar(Int.self) == 1)
        await pool.close()
    }

    /// A connection only when one is free: none while the only one is lent (no waiting), one
    /// again once it is back.
    @Test func connectionIfFreeNeverWaits() async throws {
        let base = try await TestDatabase.pool(for: "pqpool")
        let pool = ConnectionPool(config: base.config, maxConnections: 1, acquireTimeout: .seconds(60))
        let inner = try await pool.withConnection { _ in
            try await pool.withConnectionIfFree { try await $0.query("SELECT 1").scalar(Int.self) }
        }
        #expect(inner == nil)
        let later = try await pool.withConnectionIfFree { try await $0.query("SELECT 2").scalar(Int.self) }
        #expect(later == 2)
        await pool.close()
    }

    /// A snapshot exported by one REPEATABLE READ transaction and imported by another: the
    /// importer sees the exporter's state, not a row committed in between; a malformed
    /// identifier is refused before it reaches SQL.
    @Test func exportedSnapshotIsSharedByAnotherConnection() async throws {
        let base = try await TestDatabase.fresh("pqsnapshot")
        let pool = ConnectionPool(config: base.config, maxConnections: 3)
        try await pool.query("CREATE TABLE t (n int)")
        try await pool.query("INSERT INTO t VALUES (1)")
        let seen = try await pool.withTransaction(.repeatableRead, readOnly: true) { leader in
            let snapshot = try await leader.exportSnapshot()
            try await pool.query("INSERT INTO t VALUES (2)")
            return try await pool.withTransaction(.repeatableRead, readOnly: true) { follower in
                try await follower.importSnapshot(snapshot)
                return try await follower.query("SELECT count(*) FROM t").scalar(Int.self)
            }
        }
        #expect(seen == 1)
        #expect(try await pool.query("SELECT count(*) FROM t").scalar(Int.self) == 2)
        #expect(SnapshotID("00000003-0000001B-1") != nil)
        #expect(SnapshotID("1'; DROP TABLE t; --") == nil && SnapshotID("") == nil)
        await pool.close()
    }
}
