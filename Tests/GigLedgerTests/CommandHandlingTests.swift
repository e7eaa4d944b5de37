import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import TestSupport
import Testing

@Suite("Commands through the real store")
struct CommandHandlingTests {
    @Test func aGigGoesFromPostedToPaidAndReviewed() async throws {
        let market = try await Market.make("ledgerflow")
        let client = try await market.registerClient()
        let freelancer = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client)
        let bid = try await market.placeBid(gig: gig, freelancer: freelancer)
        let contract = UUID()
        let accepted = try await market.run([
            "command": "AcceptBid", "actor": .string("client:\(client.uuidString.lowercased())"),
            "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString),
            "contractId": .string(contract.uuidString),
        ])
        // One atomic append to the gig and the new contract stream.
        #expect(
            Set(accepted.events.map(\.stream)) == [
                "gig-\(gig.uuidString.lowercased())", "contract-\(contract.uuidString.lowercased())",
            ])
        #expect(accepted.events.map(\.type).contains("BidAccepted"))
        #expect(accepted.events.map(\.type).contains("ContractStarted"))
        let delivery = UUID()
        try await market.run([
            "command": "SubmitDelivery", "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"),
            "contractId": .string(contract.uuidString), "deliveryId": .string(delivery.uuidString),
            "note": "Model + report",
        ])
        let approved = try await market.run([
            "command": "ApproveDelivery", "actor": .string("client:\(client.uuidString.lowercased())"),
            "contractId": .string(contract.uuidString), "deliveryId": .string(delivery.uuidString),
        ])
        #expect(approved.events.map(\.type) == ["DeliveryApproved", "PaymentReleased", "ContractCompleted"])
        for (side, id) in [("client", client), ("freelancer", freelancer)] {
            try await market.run([
                "command": "SubmitReview", "actor": .string("\(side):\(id.uuidString.lowercased())"),
                "contractId": .string(contract.uuidString), "rating": 5, "text": "Great",
            ])
        }
        let contractEvents = try await market.service.store.readStream(
            try StreamName(validating: "contract-\(contract.uuidString.lowercased())"))
        #expect(contractEvents.filter { $0.type == "ReviewSubmitted" }.count == 2)
        let payment = try #require(contractEvents.first { $0.type == "PaymentReleased" })
        struct Paid: Decodable {
            struct M: Decodable { let minorUnits: Int64 }
            let gross: M
            let platformFee: M
            let net: M
            let invoiceNumber: String
        }
        let paid = try payment.data.decode(Paid.self)
        #expect(paid.gross.minorUnits == 200_000)
        #expect(paid.platformFee.minorUnits + paid.net.minorUnits == paid.gross.minorUnits)
        #expect(paid.invoiceNumber.hasPrefix("INV-"))
        // Every event records its actor and command.
        #expect(contractEvents.allSatisfy { !$0.metadata.actor.isEmpty })
    }

    @Test func aRejectedCommandAppendsNothingAndNamesTheRule() async throws {
        let market = try await Market.make("ledgerrules")
        let client = try await market.registerClient()
        let gig = try await market.postGig(client: client)
        let stranger = UUID()
        let store = market.service.store
        let before = try await store.streamVersion(try StreamName(validating: "gig-\(gig.uuidString.lowercased())"))
        let error = await #expect(throws: CommandError.self) {
            try await market.placeBid(gig: gig, freelancer: stranger)
        }
        #expect(error?.code == .rejected)
        #expect(error?.stableCode == "FREELANCER_NOT_FOUND")
        #expect(
            try await store.streamVersion(try StreamName(validating: "gig-\(gig.uuidString.lowercased())")) == before)
        // The client may not bid on its own gig.
        let selfBid = await #expect(throws: CommandError.self) {
            try await market.run([
                "command": "PlaceBid", "actor": .string("client:\(client.uuidString.lowercased())"),
                "gigId": .string(gig.uuidString),
                "amount": money(150_000), "estimatedDays": 3,
            ])
        }
        #expect(selfBid?.stableCode != nil)
        let badBudget = await #expect(throws: CommandError.self) {
            try await market.run([
                "command": "PostGig", "actor": .string("client:\(client.uuidString.lowercased())"),
                "clientId": .string(client.uuidString),
                "title": "x", "skills": ["nlp"], "budgetMin": money(500), "budgetMax": money(100),
                "biddingClosesAt": .string(iso(market.start.addingTimeInterval(86_400))),
            ])
        }
        #expect(badBudget?.stableCode == "INVALID_BUDGET")
    }

    /// The bidder's registration is a fact read from the freelancer's stream; a cached state
    /// answers only when it has seen the registration (registrations are never undone).
    @Test func aFreelancerRefusedAsUnregisteredCanBidOnceRegistered() async throws {
        let market = try await Market.make("ledgerregistration")
        let client = try await market.registerClient()
        let gig = try await market.postGig(client: client)
        let newcomer = UUID()
        let refused = await #expect(throws: CommandError.self) {
            try await market.placeBid(gig: gig, freelancer: newcomer)
        }
        #expect(refused?.stableCode == "FREELANCER_NOT_FOUND")
        // The service has now cached the newcomer's stream without a registration.
        try await market.run([
            "command": "RegisterFreelancer", "actor": .string("freelancer:\(newcomer.uuidString.lowercased())"),
            "freelancerId": .string(newcomer.uuidString), "name": "Grace",
            "skills": [["skill": "nlp", "level": 2]], "hourlyRate": money(8_000), "hoursPerWeek": 20,
        ])
        _ = try await market.placeBid(gig: gig, freelancer: newcomer)
        // And a second bid, on another gig, with the registration now cached.
        let other = try await market.postGig(client: client)
        _ = try await market.placeBid(gig: other, freelancer: newcomer)
        for id in [gig, other] {
            let version = try await market.service.store.streamVersion(
                try StreamName(validating: "gig-\(id.uuidString.lowercased())"))
            #expect(version == 2, "GigPosted and the newcomer's BidPlaced on gig \(id)")
        }
    }

    @Test func repeatingACommandIdReturnsTheFirstResult() async throws {
        let market = try await Market.make("ledgerrepeat")
        let client = try await market.registerClient()
        let freelancer = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client)
        let commandId = UUID()
        let fields: [String: JSONValue] = [
            "command": "PlaceBid", "commandId": .string(commandId.uuidString),
            "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"), "gigId": .string(gig.uuidString),
            "bidId": .string(UUID().uuidString), "amount": money(180_000), "estimatedDays": 5,
        ]
        let first = try await market.run(fields)
        let again = try await market.run(fields)
        #expect(first.duplicate == false)
        #expect(again.duplicate)
        #expect(again.events.map(\.position) == first.events.map(\.position))
        let bids = try await market.service.store.readStream(
            try StreamName(validating: "gig-\(gig.uuidString.lowercased())")
        ).filter { $0.type == "BidPlaced" }
        #expect(bids.count == 1)
    }

    @Test func eightConcurrentAcceptsOfDifferentBidsGiveOneContract() async throws {
        let market = try await Market.make("ledgeraccept")
        let client = try await market.registerClient()
        let gig = try await market.postGig(client: client)
        var bids: [UUID] = []
        for _ in 0..<8 {
            bids.append(try await market.placeBid(gig: gig, freelancer: try await market.registerFreelancer()))
        }
        let results = await withTaskGroup(of: Result<CommandOutcome, CommandError>.self) { group in
            for bid in bids {
                group.addTask {
                    do {
                        return .success(
                            try await market.run([
                                "command": "AcceptBid", "actor": .string("client:\(client.uuidString.lowercased())"),
                                "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString),
                            ]))
                    } catch let error as CommandError { return .failure(error) } catch {
                        return .failure(CommandError(.internalError, "\(error)"))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let wins = results.compactMap { try? $0.get() }
        #expect(wins.count == 1)
        for case .failure(let error) in results {
            #expect(error.stableCode == "GIG_ALREADY_AWARDED" || error.stableCode == "GIG_NOT_OPEN")
        }
        let contracts = try await market.service.store.readAll(after: .start, limit: 10_000, types: ["ContractStarted"])
            .events
            .filter { $0.data.text.contains(gig.uuidString.lowercased()) }
        _ = contracts
        let gigEvents = try await market.service.store.readStream(
            try StreamName(validating: "gig-\(gig.uuidString.lowercased())"))
        #expect(gigEvents.filter { $0.type == "BidAccepted" }.count == 1)
        let contractStreams = Set(wins.flatMap(\.events).map(\.stream).filter { $0.hasPrefix("contract-") })
        #expect(contractStreams.count == 1)
    }

    @Test func fiftyConcurrentBidsOnOneGigAllLand() async throws {
        let market = try await Market.make("ledgerbids", maxConnections: 12)
        let client = try await market.registerClient()
        let gig = try await market.postGig(client: client)
        var freelancers: [UUID] = []
        for _ in 0..<50 { freelancers.append(try await market.registerFreelancer()) }
        let outcomes = try await withThrowingTaskGroup(of: CommandOutcome.self) { group in
            for freelancer in freelancers {
                group.addTask {
                    let bid = UUID()
                    return try await market.run([
                        "command": "PlaceBid", "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"),
                        "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString),
                        "amount": money(150_000 + Int.random(in: 0...50_000)), "estimatedDays": 7,
                    ])
                }
            }
            return try await group.reduce(into: [CommandOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.count == 50)
        let placed = try await market.service.store.readStream(
            try StreamName(validating: "gig-\(gig.uuidString.lowercased())")
        ).filter { $0.type == "BidPlaced" }
        #expect(placed.count == 50)
        #expect(outcomes.contains { $0.attempts > 1 }, "50 writers on one stream should have needed retries")
    }

    @Test func malformedJSONCommandsGetTypedErrorsNamingTheField() throws {
        let cases: [(String, String)] = [
            ("not json", "not valid JSON"),
            ("[1,2]", "JSON object"),
            (#"{"actor":"system"}"#, "\"command\""),
            (#"{"command":"Teleport","actor":"system"}"#, "Unknown command"),
            (
                #"{"command":"PlaceBid","actor":"freelancer:00000000-0000-0000-0000-000000000001","gigId":"nope","amount":{"currency":"EUR","minorUnits":1},"estimatedDays":1}"#,
                "\"gigId\""
            ),
            (
                #"{"command":"PlaceBid","actor":"freelancer:00000000-0000-0000-0000-000000000001","gigId":"00000000-0000-0000-0000-000000000002","amount":{"currency":"XXX","minorUnits":1},"estimatedDays":1}"#,
                "XXX"
            ),
            (
                #"{"command":"PlaceBid","actor":"freelancer:00000000-0000-0000-0000-000000000001","gigId":"00000000-0000-0000-0000-000000000002","amount":{"currency":"EUR","minorUnits":1.5},"estimatedDays":1}"#,
                "minorUnits"
            ),
            (#"{"command":"PlaceBid","actor":"robot","gigId":"00000000-0000-0000-0000-000000000002"}"#, "actor"),
        ]
        for (json, mention) in cases {
            let error = #expect(throws: CommandError.self) { try CommandInput.parse(json: Data(json.utf8)) }
            #expect(error?.message.contains(mention) == true, "\(json) → \(error?.message ?? "-")")
        }
    }
}
