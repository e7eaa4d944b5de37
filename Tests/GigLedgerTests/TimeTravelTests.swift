import EventStore
import Foundation
import GigLedger
import Marketplace
import Testing

@Suite("Time travel: a stream folded to any version or time")
struct TimeTravelTests {
    struct GigView: Decodable {
        struct Status: Decodable { let `case`: String }
        struct BidView: Decodable {
            struct Money: Decodable { let minorUnits: Int }
            let amount: Money
            let status: Status
            let revisions: Int
        }
        let status: Status
        let bids: [String: BidView]
    }

    func gig(_ folded: FoldedStream) throws -> GigView? {
        if String(decoding: folded.stateJSON, as: UTF8.self) == "null" { return nil }
        return try JSONDecoder().decode(GigView.self, from: folded.stateJSON)
    }

    @Test func eachVersionOfAKnownGigFoldsToItsState() async throws {
        let market = try await Market.make("timetravel")
        let client = try await market.registerClient()
        let ada = try await market.registerFreelancer()
        let bob = try await market.registerFreelancer()
        let gigID = try await market.postGig(client: client)  // v1
        let first = try await market.placeBid(gig: gigID, freelancer: ada, amount: 250_000)  // v2
        let second = try await market.placeBid(gig: gigID, freelancer: bob, amount: 180_000)  // v3
        try await market.run([
            "command": "ReviseBid", "actor": .string("freelancer:\(ada.uuidString.lowercased())"),
            "gigId": .string(gigID.uuidString),
            "bidId": .string(first.uuidString), "amount": money(210_000), "estimatedDays": 9,
        ])  // v4
        try await market.run([
            "command": "AcceptBid", "actor": .string("client:\(client.uuidString.lowercased())"),
            "gigId": .string(gigID.uuidString),
            "bidId": .string(second.uuidString),
        ])  // v5 (accepted; the other bid lapses)
        let name = "gig-\(gigID.uuidString.lowercased())"
        let a = first.uuidString.lowercased()
        let b = second.uuidString.lowercased()

        let before = try await market.service.fold(name, to: .version(0))
        let beforeState = try gig(before)
        #expect(before.version == 0 && beforeState == nil)
        let v1 = try #require(try gig(try await market.service.fold(name, to: .version(1))))
        #expect(v1.status.case == "open" && v1.bids.isEmpty)
        let v2 = try #require(try gig(try await market.service.fold(name, to: .version(2))))
        #expect(v2.bids.count == 1 && v2.bids[a]?.amount.minorUnits == 250_000)
        let v3 = try #require(try gig(try await market.service.fold(name, to: .version(3))))
        #expect(v3.bids.count == 2 && v3.bids[b]?.status.case == "live")
        let v4 = try #require(try gig(try await market.service.fold(name, to: .version(4))))
        #expect(v4.bids[a]?.amount.minorUnits == 210_000 && v4.bids[a]?.revisions == 1)
        let latest = try await market.service.fold(name)
        #expect(latest.version == latest.currentVersion && latest.version >= 5)
        let now = try #require(try gig(latest))
        #expect(now.status.case == "awarded")
        #expect(now.bids[b]?.status.case == "accepted")
        #expect(now.bids[a]?.status.case == "lapsed")

        // By recorded time: at the third event's recording time we see three events.
        let third = try #require(
            try await market.service.store.readStream(try StreamName(validating: name), from: 3, limit: 1).first)
        let atTime = try await market.service.fold(name, to: .recordedAt(third.recordedAt))
        #expect(atTime.version >= 3)
        #expect(try await market.service.fold(name, to: .recordedAt(Date(timeIntervalSince1970: 0))).version == 0)
        // And by business time.
        let posted = try await market.service.fold(name, to: .occurredAt(market.start))
        #expect(posted.version >= 1)

        await #expect(throws: CommandError.self) { try await market.service.fold(name, to: .version(99)) }
        await #expect(throws: CommandError.self) {
            try await market.service.fold("gig-\(UUID().uuidString.lowercased())")
        }
        await #expect(throws: CommandError.self) { try await market.service.fold("nonsense") }
    }
}
