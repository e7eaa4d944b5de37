import EventStore
import Foundation
import PQ
import TestSupport
import Testing

@Suite("Migrations")
struct MigratorTests {
    let first = Migration(version: 1, name: "0001_first", sql: "CREATE TABLE first_table (id int);")
    let second = Migration(
        version: 2, name: "0002_second", sql: "CREATE TABLE second_table (id int); INSERT INTO second_table VALUES (1);"
    )

    @Test func appliesPendingOnceInOrderAndReportsStatus() async throws {
        let pool = try await TestDatabase.fresh("migrate", migrated: false)
        try await pool.withConnection { (conn: Connection) async throws in
            #expect(try await Migrator(migrations: [first]).migrate(on: conn).map(\.version) == [1])
            #expect(try await Migrator(migrations: [first]).migrate(on: conn).isEmpty)
            let before = try await Migrator(migrations: [first, second]).status(on: conn)
            #expect(before.map(\.status) == [.applied, .pending])
            #expect(try await Migrator(migrations: [first, second]).migrate(on: conn).map(\.version) == [2])
            let after = try await Migrator(migrations: [first, second]).status(on: conn)
            #expect(after.map(\.status) == [.applied, .applied])
            #expect(after.allSatisfy { $0.appliedAt != nil })
        }
    }

    @Test func anEditedAppliedMigrationIsRefusedByName() async throws {
        let pool = try await TestDatabase.fresh("migrate", migrated: false)
        try await pool.withConnection { (conn: Connection) async throws in
            try await Migrator(migrations: [first]).migrate(on: conn)
            let edited = Migration(version: 1, name: "0001_first", sql: "CREATE TABLE first_table (id bigint);")
            let third = Migration(version: 3, name: "0003_third", sql: "CREATE TABLE third_table (id int);")
            let error = await #expect(throws: EventStoreError.self) {
                try await Migrator(migrations: [edited, third]).migrate(on: conn)
            }
            #expect(error?.code == .migrationEdited)
            #expect(error?.message.contains("sql/0001_first.sql") == true)
            #expect(
                try await Migrator(migrations: [edited, third]).status(on: conn).map(\.status) == [.edited, .pending])
            // Nothing of the pending migration was applied.
            #expect(try await conn.query("SELECT to_regclass('third_table') IS NULL").scalar(Bool.self))
        }
    }

    @Test func aFailingMigrationIsRolledBackWhole() async throws {
        let pool = try await TestDatabase.fresh("migrate", migrated: false)
        try await pool.withConnection { (conn: Connection) async throws in
            let broken = Migration(version: 1, name: "0001_broken", sql: "CREATE TABLE half_done (id int); SELECT 1/0;")
            let error = await #expect(throws: EventStoreError.self) {
                try await Migrator(migrations: [broken]).migrate(on: conn)
            }
            #expect(error?.code == .migrationFailed)
            #expect(error?.message.contains("0001_broken") == true)
            #expect(try await conn.query("SELECT to_regclass('half_done') IS NULL").scalar(Bool.self))
            #expect(try await Migrator(migrations: [broken]).status(on: conn).map(\.status) == [.pending])
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        let pool = try await TestDatabase.fresh("migrate", migrated: false)
        let applied = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await pool.withConnection {
                        try await Migrator(migrations: [first, second]).migrate(on: $0).count
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(applied == 2)
    }

    @Test func theEmbeddedMigrationsAreExactlyTheFilesOfSQL() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent("sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.range(of: #"^\d{4}_[a-z0-9_]+\.sql$"#, options: .regularExpression) != nil }.sorted()
        #expect(files.map { String($0.dropLast(4)) } == Migration.embedded.map(\.name))
        for (file, migration) in zip(files, Migration.embedded) {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(
                Migrator.checksum(text.trimmingCharacters(in: .newlines)) == Migrator.checksum(migration.sql),
                "sql/\(file) differs from the copy built into gigctl: run scripts/embed-sql")
            #expect(Int(file.prefix(4)) == migration.version)
        }
    }

    @Test func checksumIsSHA256() {
        #expect(Migrator.checksum("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Migrator.checksum("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
