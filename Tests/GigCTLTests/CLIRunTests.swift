import EventStore
import Foundation
import PQ
import TestSupport
import Testing

@testable import GigCTLCore

@Suite("gigctl against a real database")
struct CLIRunTests {
    @Test func databaseURLPrecedence() {
        var options = GlobalOptions()
        options.databaseURL = "postgresql://a@h/one"
        #expect(
            options.connectionConfig(environment: ["DATABASE_URL": "postgresql://b@h/two"]).target
                == "postgresql://a@h/one")
        options.databaseURL = nil
        #expect(
            options.connectionConfig(environment: ["DATABASE_URL": "postgresql://b@h/two"]).target
                == "postgresql://b@h/two")
        #expect(options.connectionConfig(environment: ["PGHOST": "/tmp"]).target == "")
    }

    @Test func readURLPrecedence() throws {
        let environment = ["DATABASE_URL": "postgresql://b@h/primary", "READ_DATABASE_URL": "postgresql://b@h/standby"]
        let parsed = try GigCTL.parseAsRoot(["match", "gig", UUID().uuidString, "--read-url", "postgresql://a@r/one"])
        var options = try #require(parsed as? MatchGig).global
        #expect(options.readConnectionConfig(environment: environment).target == "postgresql://a@r/one")
        #expect(options.connectionConfig(environment: environment).target == "postgresql://b@h/primary")
        options.readURL = nil
        #expect(options.readConnectionConfig(environment: environment).target == "postgresql://b@h/standby")
        // Without a read URL, reads go where writes go.
        options.databaseURL = "postgresql://a@h/given"
        #expect(
            options.readConnectionConfig(environment: ["DATABASE_URL": "postgresql://b@h/primary"]).target
                == "postgresql://a@h/given")
    }

    @Test func migrateAppliesOnceAndStatusReportsIt() async throws {
        let pool = try await TestDatabase.fresh("climigrate", migrated: false)
        let url = pool.config.target
        let migrate = try GigCTL.parseAsRoot(["migrate", "apply", "--database-url", url, "--json"]) as? MigrateApply
        try await migrate?.run()
        let states = try await pool.withConnection { try await Migrator().status(on: $0) }
        #expect(states.allSatisfy { $0.status == .applied })
        // --check passes now, and fails (exit 1) once the database lacks a migration.
        let check =
            try GigCTL.parseAsRoot(["migrate", "status", "--check", "--database-url", url, "--json"]) as? MigrateStatus
        try await check?.run()
        let empty = try await TestDatabase.fresh("cliempty", migrated: false)
        let failing =
            try GigCTL.parseAsRoot(["migrate", "status", "--check", "--database-url", empty.config.target, "--json"])
            as? MigrateStatus
        await #expect(throws: (any Error).self) { try await failing?.run() }
    }

    @Test func unreachableDatabaseExitsWithUnavailableAndNoPassword() async throws {
        let command =
            try GigCTL.parseAsRoot(["status", "--database-url", "postgresql://u:hunter2@127.0.0.1:1/x"])
            as? StatusCommand
        let error = await #expect(throws: (any Error).self) { try await command?.run() }
        #expect(GigCTL.exitCode(for: try #require(error)).rawValue == 69)
        #expect(!String(describing: error).contains("hunter2"))
    }

    /// `timers run` reads the timers read model: before a projection daemon has created it, the
    /// run exits 78 (configuration) and says what to start.
    @Test func timersBeforeTheReadModelExistsExitWithConfiguration() async throws {
        let pool = try await TestDatabase.fresh("clitimers")
        let command =
            try GigCTL.parseAsRoot(["timers", "run", "--database-url", pool.config.target, "--json"]) as? TimersRun
        let error = await #expect(throws: (any Error).self) { try await command?.run() }
        // (The message, printed to stderr, is checked in TimerTests.)
        #expect(GigCTL.exitCode(for: try #require(error)).rawValue == 78)
    }
}
