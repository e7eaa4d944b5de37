import ArgumentParser
import EventStore
import Foundation
import PQ
import TestSupport
import Testing

@testable import GigCTLCore

@Suite("gigctl drives a gig from post to paid")
struct MarketplaceCLITests {
    func run(_ arguments: [String]) async throws {
        var command = try GigCTL.parseAsRoot(arguments)
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await runAsync(&asyncCommand)
        } else {
            try command.run()
        }
    }

    private func runAsync<C: AsyncParsableCommand>(_ command: inout C) async throws { try await command.run() }
    private func runAsync(_ command: inout any AsyncParsableCommand) async throws {
        try await openAndRun(command)
    }
    private func openAndRun<C: AsyncParsableCommand>(_ command: C) async throws {
        var copy = command
        try await copy.run()
    }

    func exitCode(_ arguments: [String]) async -> Int32 {
        do {
            try await run(arguments)
            return 0
        } catch {
            return GigCTL.exitCode(for: error).rawValue
        }
    }

    @Test func postToPaidAndReviewedWithGigctlAlone() async throws {
        let pool = try await TestDatabase.pool(for: "climarket")
        let db = ["--database-url", pool.config.target]
        let client = UUID().uuidString.lowercased()
        let freelancer = UUID().uuidString.lowercased()
        let gig = UUID().uuidString.lowercased()
        let bid = UUID().uuidString.lowercased()
        let contract = UUID().uuidString.lowercased()
        try await run(
            ["client", "register", "--id", client, "--name", "Acme", "--country", "DE", "--payment-verified"] + db)
        try await run(
            [
                "freelancer", "register", "--id", freelancer, "--name", "Ada", "--skill", "nlp:3", "--rate", "90.00",
                "--hours", "30",
            ] + db)
        try await run(
            [
                "gig", "post", "--id", gig, "--client", client, "--title", "Fine-tune", "--skill", "nlp",
                "--budget-min", "1000", "--budget-max", "3000", "--closes-in-days", "7",
            ] + db)
        try await run(
            [
                "bid", "place", "--id", bid, "--gig", gig, "--freelancer", freelancer, "--amount", "2000.00", "--days",
                "10",
            ] + db)
        try await run(["bid", "accept", "--gig", gig, "--bid", bid, "--client", client, "--contract", contract] + db)
        try await run(
            ["contract", "deliver", "--contract", contract, "--freelancer", freelancer, "--note", "done"] + db)
        let store = EventStore(pool: pool)
        let contractStream = try StreamName(validating: "contract-\(contract)")
        let delivered = try #require(try await store.readStream(contractStream).last)
        struct Delivery: Decodable { let deliveryId: UUID }
        let delivery = try delivered.data.decode(Delivery.self).deliveryId.uuidString.lowercased()
        try await run(["contract", "approve", "--contract", contract, "--delivery", delivery, "--client", client] + db)
        try await run(
            ["contract", "review", "--contract", contract, "--actor", "client:\(client)", "--rating", "5"] + db)
        try await run(
            ["contract", "review", "--contract", contract, "--actor", "freelancer:\(freelancer)", "--rating", "4"] + db)
        let types = try await store.readStream(contractStream).map(\.type)
        #expect(
            types == [
                "ContractStarted", "DeliverySubmitted", "DeliveryApproved", "PaymentReleased", "ContractCompleted",
                "ReviewSubmitted", "ReviewSubmitted",
            ])

        // Exit codes: rejected by a rule (65), malformed (64).
        #expect(
            await exitCode(
                ["bid", "place", "--gig", gig, "--freelancer", freelancer, "--amount", "10", "--days", "1"] + db) == 65)
        #expect(
            await exitCode(
                ["bid", "place", "--gig", "not-a-uuid", "--freelancer", freelancer, "--amount", "10", "--days", "1"]
                    + db) == 64)
        #expect(
            await exitCode(
                ["bid", "place", "--gig", gig, "--freelancer", freelancer, "--amount", "ten", "--days", "1"] + db) == 64
        )
        #expect(
            await exitCode(
                ["contract", "review", "--contract", contract, "--actor", "client:\(client)", "--rating", "9"] + db)
                == 65)
    }

    /// The flags of GigPosted v2 and of preferences reach the stored events.
    @Test func experienceEngagementAndPreferencesFlags() async throws {
        let pool = try await TestDatabase.pool(for: "cliv2")
        let db = ["--database-url", pool.config.target]
        let client = UUID().uuidString.lowercased()
        let freelancer = UUID().uuidString.lowercased()
        let gig = UUID().uuidString.lowercased()
        try await run(["client", "register", "--id", client, "--name", "Acme", "--country", "DE"] + db)
        try await run(
            [
                "freelancer", "register", "--id", freelancer, "--name", "Ada", "--skill", "nlp:3", "--rate", "90.00",
                "--hours", "30",
            ] + db)
        try await run(
            [
                "gig", "post", "--id", gig, "--client", client, "--title", "Label", "--skill", "nlp", "--budget-min",
                "1000", "--budget-max", "3000", "--closes-in-days", "7", "--experience", "expert", "--engagement",
                "hourly", "--hours", "40",
            ] + db)
        try await run(
            [
                "freelancer", "set-preferences", "--freelancer", freelancer, "--min-budget", "800.00", "--accept",
                "USD",
                "--accept", "EUR", "--want", "nlp", "--max-contracts", "2",
            ] + db)
        let store = EventStore(pool: pool)
        let posted = try #require(try await store.readStream(try StreamName(validating: "gig-\(gig)")).first)
        #expect(posted.schemaVersion == 2)
        let data = try posted.data.decode(JSONValue.self)
        #expect(data["experience"] == "expert")
        #expect(data["engagement"] == ["hours": 40, "kind": "hourly"])
        let set = try #require(try await store.readStream(try StreamName(validating: "freelancer-\(freelancer)")).last)
        #expect(set.type == "PreferencesSet")
        let preferences = try set.data.decode(JSONValue.self)
        #expect(preferences["minimumBudget"] == ["currency": "EUR", "minorUnits": 80_000])
        #expect(preferences["currencies"] == ["EUR", "USD"])
        #expect(preferences["wantedSkills"] == ["nlp"])
        #expect(preferences["maxConcurrentContracts"] == 2)
        // Hours without an hourly engagement, an unknown level, 0 hours, too many contracts: malformed (64).
        let base = [
            "gig", "post", "--client", client, "--title", "T", "--skill", "nlp", "--budget-min", "1", "--budget-max",
            "2", "--closes-in-days", "3",
        ]
        #expect(await exitCode(base + ["--hours", "5"] + db) == 64)
        #expect(await exitCode(base + ["--experience", "guru"] + db) == 64)
        #expect(await exitCode(base + ["--engagement", "hourly", "--hours", "0"] + db) == 64)
        #expect(
            await exitCode(["freelancer", "set-preferences", "--freelancer", freelancer, "--max-contracts", "99"] + db)
                == 64)
    }

    @Test func everyMarketplaceSubcommandHasHelp() {
        let commands: [any ParsableCommand.Type] = [
            RegisterFreelancer.self, UpdateSkills.self, ChangeRate.self, ChangeAvailability.self, SetPreferences.self,
            RegisterClient.self,
            PostGig.self, CancelGig.self, PlaceBid.self, ReviseBid.self, WithdrawBid.self, DeclineBid.self,
            AcceptBid.self,
            Deliver.self, RequestChanges.self, Approve.self, OpenDispute.self, ResolveDispute.self, Review.self,
            CancelContract.self, Submit.self, TimersRun.self,
        ]
        for command in commands {
            let help = GigCTL.helpMessage(for: command, columns: 400)
            #expect(help.contains("USAGE:"))
            #expect(help.contains("--database-url"))
            #expect(help.contains("Exit codes") || command == TimersRun.self, "\(command) help lacks exit codes")
            #expect(command.configuration.abstract.hasSuffix("."))
        }
    }
}
