import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import TestSupport
import Testing

@testable import GigLedger

@Suite("Races on one contract")
struct RaceTests {
    /// Eight approvals of one delivery at once (different command ids, as from eight browser
    /// tabs): the contract is paid once, with one invoice; the others are refused by a rule.
    @Test func concurrentApprovalsPayOnce() async throws {
        let market = try await Market.make("raceapprove", maxConnections: 10)
        let client = try await market.registerClient()
        let freelancer = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client)
        let bid = try await market.placeBid(gig: gig, freelancer: freelancer)
        let contract = UUID()
        let delivery = UUID()
        try await market.run([
            "command": "AcceptBid", "actor": .string("client:\(client.uuidString.lowercased())"),
            "gigId": .string(gig.uuidString),
            "bidId": .string(bid.uuidString), "contractId": .string(contract.uuidString),
        ])
        try await market.run([
            "command": "SubmitDelivery", "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"),
            "contractId": .string(contract.uuidString), "deliveryId": .string(delivery.uuidString), "note": "done",
        ])
        let results = await withTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do {
                        let outcome = try await market.run([
                            "command": "ApproveDelivery", "actor": .string("client:\(client.uuidString.lowercased())"),
                            "contractId": .string(contract.uuidString), "deliveryId": .string(delivery.uuidString),
                        ])
                        return outcome.events.isEmpty ? "nothing" : "paid"
                    } catch let error as CommandError {
                        return error.stableCode
                    } catch {
                        return "unexpected: \(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == "paid" }.count == 1, "\(results)")
        #expect(
            results.allSatisfy {
                $0 == "paid" || $0 == "NO_PENDING_DELIVERY" || $0 == "CONTRACT_NOT_ACTIVE" || $0 == "nothing"
            }, "\(results)")
        let events = try await market.service.store.readStream(
            try StreamName(validating: "contract-\(contract.uuidString.lowercased())"))
        #expect(events.filter { $0.type == "PaymentReleased" }.count == 1)
        #expect(events.filter { $0.type == "DeliveryApproved" }.count == 1)
        #expect(events.filter { $0.type == "ContractCompleted" }.count == 1)
    }
}

@Suite("A cached state the server no longer has")
struct StaleCacheTests {
    /// When the server holds fewer events of a stream than the cache saw (a restored backup,
    /// commits lost to `synchronous_commit = off` and a crash), the next command reads the
    /// stream afresh instead of conflicting on every attempt.
    @Test func aConflictBelowTheCachedVersionDropsTheCachedState() async throws {
        let market = try await Market.make("stalecache")
        let client = try await market.registerClient()
        let freelancer = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client)
        let stream = try MarketplaceStream(parsing: "gig-\(gig.uuidString.lowercased())")
        let (state, version) = try await market.service.load(GigDecider.self, stream)
        market.service.cache.put("\(GigDecider.self)/\(stream.name)", state, version: version + 3)
        let bid = try await market.placeBid(gig: gig, freelancer: freelancer)
        let events = try await market.service.store.readStream(try StreamName(validating: stream.name))
        #expect(events.map(\.type) == ["GigPosted", "BidPlaced"])
        #expect(
            events.last?.data.text.contains(bid.uuidString.lowercased()) == true
                || events.last?.data.text.contains(bid.uuidString) == true)
    }
}
