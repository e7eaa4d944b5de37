import EventStore
import Foundation
import PQ
import TestSupport
import Testing

@testable import EventStore

@Suite("The database enforces an immutable log and the roles")
struct ImmutabilityAndRolesTests {
    func seeded() async throws -> (ConnectionPool, StreamName) {
        let pool = try await TestDatabase.pool(for: "esroles")
        let s = stream(uniqueCategory())
        try await EventStore(pool: pool).append([event("Fact")], to: s, expecting: .noStream, metadata: metadata())
        return (pool, s)
    }

    @Test(arguments: [
        "UPDATE ledger.events SET data = '{}' WHERE stream_id = $1",
        "DELETE FROM ledger.events WHERE stream_id = $1",
        "UPDATE ledger.commands SET result = '{}' WHERE command_id IN (SELECT (metadata->>'commandId')::uuid FROM ledger.events WHERE stream_id = $1)",
        "DELETE FROM ledger.streams WHERE stream_id = $1",
    ])
    func changingTheLogFailsEvenForTheOwner(statement: String) async throws {
        let (pool, s) = try await seeded()
        let error = await #expect(throws: PQError.self) {
            try await pool.query(SQL(unsafeText: statement, binds: [PGBind(text: s.rawValue, type: .text)]))
        }
        #expect(error?.sqlState == .appendOnlyViolation)
        #expect(error?.server?.hint?.contains("compensating event") == true)
        #expect(try await EventStore(pool: pool).readStream(s).count == 1)
    }

    @Test(arguments: ["ledger.events", "ledger.commands", "ledger.streams"])
    func truncateFails(table: String) async throws {
        let (pool, _) = try await seeded()
        let error = await #expect(throws: PQError.self) {
            try await pool.query(SQL(unsafeText: "TRUNCATE \(table) CASCADE"))
        }
        #expect(error?.sqlState == .appendOnlyViolation)
    }

    /// Runs `sql` as `role` (SET ROLE inside a transaction that is always rolled back).
    func asRole(_ pool: ConnectionPool, _ role: String, _ sql: SQL) async -> PQError? {
        do {
            try await pool.withConnection { conn in
                try await conn.executeScript("BEGIN")
                do {
                    try await conn.execute("SET LOCAL ROLE \(identifier: role)")
                    try await conn.query(sql)
                    try await conn.executeScript("ROLLBACK")
                } catch {
                    try await conn.executeScript("ROLLBACK")
                    throw error
                }
            }
            return nil
        } catch let error as PQError {
            return error
        } catch {
            return PQError(.protocolViolation, "\(error)")
        }
    }

    @Test func writerMayAppendAndReadButNotWriteTablesDirectly() async throws {
        let (pool, s) = try await seeded()
        let append = try EventStoreTestAccess.appendSQL(stream: stream(uniqueCategory()))
        #expect(await asRole(pool, "gigledger_writer", append) == nil)
        #expect(
            await asRole(pool, "gigledger_writer", "SELECT count(*) FROM ledger.events WHERE stream_id = \(s.rawValue)")
                == nil)
        #expect(await asRole(pool, "gigledger_writer", "SELECT ledger.lock_streams(\([s.rawValue])::text[])") == nil)
        let insert = await asRole(
            pool, "gigledger_writer",
            """
            INSERT INTO ledger.events (stream_id, stream_version, category, event_type, schema_version, data, metadata, occurred_at)
            VALUES ('x-1', 1, 'x', 'Forged', 1, '{}', '{}', now())
            """)
        #expect(insert?.sqlState == .insufficientPrivilege)
        let update = await asRole(
            pool, "gigledger_writer", "UPDATE ledger.streams SET version = 99 WHERE stream_id = \(s.rawValue)")
        #expect(update?.sqlState == .insufficientPrivilege)
        let checkpoint = await asRole(
            pool, "gigledger_writer",
            "INSERT INTO ledger.projections (name, version) VALUES ('w', 1)"
        )
        #expect(checkpoint?.sqlState == .insufficientPrivilege)
    }

    @Test func projectorReadsTheLogAndKeepsCheckpointsButCannotAppend() async throws {
        let (pool, s) = try await seeded()
        #expect(
            await asRole(
                pool, "gigledger_projector", "SELECT count(*) FROM ledger.events WHERE stream_id = \(s.rawValue)")
                == nil)
        #expect(
            await asRole(
                pool, "gigledger_projector",
                "INSERT INTO ledger.projections (name, version) VALUES ('p', 1)"
            ) == nil)
        let append = await asRole(
            pool, "gigledger_projector", try EventStoreTestAccess.appendSQL(stream: stream(uniqueCategory())))
        #expect(append?.sqlState == .insufficientPrivilege)
        let lock = await asRole(pool, "gigledger_projector", "SELECT ledger.lock_streams(\([s.rawValue])::text[])")
        #expect(lock?.sqlState == .insufficientPrivilege)
        let delete = await asRole(
            pool, "gigledger_projector", "DELETE FROM ledger.events WHERE stream_id = \(s.rawValue)")
        #expect(delete?.sqlState == .insufficientPrivilege)
    }

    @Test func readerCannotTouchTheLog() async throws {
        let (pool, s) = try await seeded()
        let read = await asRole(
            pool, "gigledger_reader", "SELECT count(*) FROM ledger.events WHERE stream_id = \(s.rawValue)")
        #expect(read?.sqlState == .insufficientPrivilege)
        let append = await asRole(
            pool, "gigledger_reader", try EventStoreTestAccess.appendSQL(stream: stream(uniqueCategory())))
        #expect(append?.sqlState == .insufficientPrivilege)
    }
}

enum EventStoreTestAccess {
    static func appendSQL(stream: StreamName) throws -> SQL {
        try EventStore.appendStatement(
            AppendRequest(
                metadata: metadata(), streams: [StreamAppend(stream: stream, expected: .any, events: [event("ByRole")])]
            ))
    }
}
