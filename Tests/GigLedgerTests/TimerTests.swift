import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections
import TestSupport
import Testing
import Timers

/// Each test has a database of its own: a timer run acts on every due gig in its database.
///
/// The job reads what is due only from the timers read model: `caughtUp` applies the log to it
/// (as the projection daemon does), and a test that leaves events unapplied shows the job does
/// not see them — it would if it looked in the log.
@Suite("Timers: expiry and auto-approval")
struct TimerTests {
    func gigEvents(_ market: Market, _ gig: UUID) async throws -> [String] {
        try await market.service.store.readStream(try StreamName(validating: "gig-\(gig.uuidString.lowercased())")).map(
            \.type)
    }

    /// Applies every event so far to the timers read model, as the projection daemon would
    /// (again until none is left: another suite's open transaction may hold the log back).
    func caughtUp(_ market: Market) async throws {
        let engine = ProjectionEngine(
            store: market.service.store, projectors: [TimersProjector()], owner: "timers-test")
        try await engine.prepare()
        let done = try await eventually(timeout: .seconds(60)) { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await engine.status().allSatisfy { $0.lagEvents == 0 } ? true : nil
        }
        try await engine.releaseLeases()
        try #require(done == true, "the timers projector did not catch up")
    }

    func stream(_ gig: UUID) -> String { "gig-\(gig.uuidString.lowercased())" }

    @Test func aGigPastItsDeadlineExpiresOnceEvenWithTwoRunsAtOnce() async throws {
        let market = try await Market.make("ledgertimersexpiry")
        let client = try await market.registerClient()
        let gig = try await market.postGig(client: client, closesIn: 1)
        let open = try await market.postGig(client: client, closesIn: 30)
        try await caughtUp(market)
        let timers = TimerJob(service: market.service)
        // Before the deadline nothing happens.
        let early = try await timers.run(now: market.start.addingTimeInterval(3600))
        #expect(early.expiredGigs.isEmpty && early.alreadyHandled == 0)
        #expect(early.readModel.state == "running" && early.readModel.lagEvents == 0)
        let later = market.start.addingTimeInterval(2 * 86_400)
        async let first = timers.run(now: later)
        async let second = timers.run(now: later)
        let reports = try await [first, second]
        let expiredBy = reports.filter { $0.expiredGigs.contains(stream(gig)) }
        #expect(expiredBy.count == 1)
        #expect(reports.allSatisfy { $0.failures.isEmpty })
        #expect(reports.allSatisfy { !$0.expiredGigs.contains(stream(open)) })
        #expect(try await gigEvents(market, gig).filter { $0 == "GigClosed" }.count == 1)
        #expect(try await gigEvents(market, open).contains("GigClosed") == false)
        // Once the read model has the closure, a third run finds nothing due at all.
        try await caughtUp(market)
        let again = try await timers.run(now: later)
        #expect(again.expiredGigs.isEmpty && again.alreadyHandled == 0 && again.failures.isEmpty)
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
        try await caughtUp(market)
        let timers = TimerJob(service: market.service)
        let stream = "contract-\(contract.uuidString.lowercased())"
        let within = try await timers.run(now: market.start.addingTimeInterval(13 * 86_400))
        #expect(within.autoApproved.isEmpty && within.alreadyHandled == 0)
        // The awarded gig is no expiry timer either, though its deadline (7 days) passed.
        #expect(within.expiredGigs.isEmpty)
        let past = try await timers.run(now: market.start.addingTimeInterval(15 * 86_400))
        #expect(past.autoApproved == [stream])
        let types = try await market.service.store.readStream(try StreamName(validating: stream)).map(\.type)
        #expect(types.suffix(3) == ["DeliveryApproved", "PaymentReleased", "ContractCompleted"])
        let again = try await timers.run(now: market.start.addingTimeInterval(16 * 86_400))
        #expect(again.autoApproved.isEmpty && again.alreadyHandled == 1)
        try await caughtUp(market)
        let settled = try await timers.run(now: market.start.addingTimeInterval(16 * 86_400))
        #expect(settled.autoApproved.isEmpty && settled.alreadyHandled == 0)
    }

    /// The job's only source is the read model: a due gig whose posting the projector has not
    /// applied is not found (a query of the log would find it), and is once it is applied.
    @Test func theJobSeesOnlyWhatTheReadModelHolds() async throws {
        let market = try await Market.make("ledgertimersreadmodel")
        try await caughtUp(market)
        let client = try await market.registerClient()
        let gig = try await market.postGig(client: client, closesIn: 1)
        let timers = TimerJob(service: market.service)
        let later = market.start.addingTimeInterval(2 * 86_400)
        let before = try await timers.run(now: later)
        #expect(before.expiredGigs.isEmpty && before.alreadyHandled == 0)
        #expect(before.readModel.lagEvents == 2)
        #expect(try await gigEvents(market, gig) == ["GigPosted"])
        try await caughtUp(market)
        let after = try await timers.run(now: later)
        #expect(after.expiredGigs == [stream(gig)])
    }

    /// A row the log has overtaken (the gig was awarded after the projector applied its posting)
    /// is harmless: the domain decides, and an awarded gig does not expire.
    @Test func aStaleRowIsHarmless() async throws {
        let market = try await Market.make("ledgertimersstale")
        let client = try await market.registerClient()
        let freelancer = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client, closesIn: 1)
        let bid = try await market.placeBid(gig: gig, freelancer: freelancer)
        try await caughtUp(market)
        try await market.run([
            "command": "AcceptBid", "actor": .string("client:\(client.uuidString.lowercased())"),
            "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString),
            "contractId": .string(UUID().uuidString),
        ])
        let report = try await TimerJob(service: market.service).run(now: market.start.addingTimeInterval(2 * 86_400))
        #expect(report.expiredGigs.isEmpty && report.failures.isEmpty)
        #expect(report.alreadyHandled == 1)
        #expect(try await gigEvents(market, gig).contains("GigClosed") == false)
    }

    /// While a dispute is open the delivery waits; resumed work puts its review window back.
    @Test func aDisputeHoldsTheReviewWindowAndResumedWorkRestoresIt() async throws {
        let market = try await Market.make("ledgertimersdispute")
        let client = try await market.registerClient()
        let freelancer = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client)
        let bid = try await market.placeBid(gig: gig, freelancer: freelancer)
        let contract = UUID()
        let dispute = UUID()
        try await market.run([
            "command": "AcceptBid", "actor": .string("client:\(client.uuidString.lowercased())"),
            "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString),
            "contractId": .string(contract.uuidString),
        ])
        try await market.run([
            "command": "SubmitDelivery", "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"),
            "contractId": .string(contract.uuidString), "note": "done",
        ])
        try await market.run([
            "command": "OpenDispute", "actor": .string("client:\(client.uuidString.lowercased())"),
            "contractId": .string(contract.uuidString), "disputeId": .string(dispute.uuidString),
            "reason": "not what we agreed",
        ])
        try await caughtUp(market)
        let timers = TimerJob(service: market.service)
        let late = market.start.addingTimeInterval(20 * 86_400)
        let held = try await timers.run(now: late)
        #expect(held.autoApproved.isEmpty && held.alreadyHandled == 0)
        try await market.run([
            "command": "ResolveDispute", "actor": "admin:ops", "contractId": .string(contract.uuidString),
            "disputeId": .string(dispute.uuidString), "resolution": "resumeWork", "note": "carry on",
        ])
        try await caughtUp(market)
        let resumed = try await timers.run(now: late)
        #expect(resumed.autoApproved == ["contract-\(contract.uuidString.lowercased())"])
    }

    @Test func aDatabaseWithoutTheReadModelSaysWhatToRun() async throws {
        let market = try await Market.make("ledgertimersnotbuilt")
        await #expect {
            _ = try await TimerJob(service: market.service).run(now: market.start)
        } throws: { error in
            guard case .notBuilt = error as? DueTimersError else { return false }
            return "\(error)".contains("gigctl projections run")
        }
    }
}
