import EventStore
import Foundation
import GigLedger
import Marketplace
import TestSupport
import Testing

/// Each test has a database of its own: a timer run acts on every due gig in its database.
@Suite("Timers: expiry and auto-approval")
struct TimerTests {
    func gigEvents(_ market: Market, _ gig: UUID) async throws -> [String] {
        try await market.service.store.readStream(try StreamName(validating: "gig-\(gig.uuidString.lowercased())")).map(
            \.type)
    }

    @Test func aGigPastItsDeadlineExpiresOnceEvenWithTwoRunsAtOnce() async throws {
        let market = try await Market.make("ledgertimersexpiry")
        let client = try await market.registerClient()
        let gig = try await market.postGig(client: client, closesIn: 1)
        let open = try await market.postGig(client: client, closesIn: 30)
        let timers = TimerJob(service: market.service)
        // Before the deadline nothing happens.
        let early = try await timers.run(now: market.start.addingTimeInterval(3600))
        #expect(!early.expiredGigs.contains("gig-\(gig.uuidString.lowercased())"))
        let later = market.start.addingTimeInterval(2 * 86_400)
        async let first = timers.run(now: later)
        async let second = timers.run(now: later)
        let reports = try await [first, second]
        let expiredBy = reports.filter { $0.expiredGigs.contains("gig-\(gig.uuidString.lowercased())") }
        #expect(expiredBy.count == 1)
        #expect(reports.allSatisfy { $0.failures.isEmpty })
        #expect(try await gigEvents(market, gig).filter { $0 == "GigClosed" }.count == 1)
        #expect(try await gigEvents(market, open).contains("GigClosed") == false)
        // A third run finds nothing left to do for it.
        let again = try await timers.run(now: later)
        #expect(!again.expiredGigs.contains("gig-\(gig.uuidString.lowercased())"))
    }

    @Test func aDeliveryPastItsReviewWindowIsApprovedAndPaid() async throws {
        let market = try await Market.make("ledgertimersapproval")
        let client = try await market.registerClient()
        let freelancer = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client)
        let bid = try await market.placeBid(gig: gig, freelancer: freelancer)
        let contract = UUID()
        try await market.run([
            "command": "AcceptBid", "actor": .string("client:\(client.uuidString.lowercased())"),
            "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString),
            "contractId": .string(contract.uuidString),
        ])
        try await market.run([
            "command": "SubmitDelivery", "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"),
            "contractId": .string(contract.uuidString), "note": "done",
        ])
        let timers = TimerJob(service: market.service)
        let stream = "contract-\(contract.uuidString.lowercased())"
        let within = try await timers.run(now: market.start.addingTimeInterval(13 * 86_400))
        #expect(!within.autoApproved.contains(stream))
        let past = try await timers.run(now: market.start.addingTimeInterval(15 * 86_400))
        #expect(past.autoApproved.contains(stream))
        let types = try await market.service.store.readStream(try StreamName(validating: stream)).map(\.type)
        #expect(types.suffix(3) == ["DeliveryApproved", "PaymentReleased", "ContractCompleted"])
        let again = try await timers.run(now: market.start.addingTimeInterval(16 * 86_400))
        #expect(!again.autoApproved.contains(stream))
    }
}
