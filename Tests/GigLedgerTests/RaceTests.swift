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

@Suite("Bids on a hot gig, decided together")
struct HotGigBatchTests {
    /// Twelve freelancers bid on a gig others are writing to, all at once: each sends two
    /// different bids (the second one decided is refused by a rule: one live bid per freelancer)
    /// and sends its first bid twice under the same command id. Decided in batches, each
    /// command keeps its own outcome: one bid per freelancer in the log, the repeat answered
    /// with the first result, the versions contiguous — and the bids shared transactions.
    @Test func concurrentBidsOnAHotGigAreDecidedInBatchesEachWithItsOwnOutcome() async throws {
        let market = try await Market.make("racehotgig", maxConnections: 10)
        let client = try await market.registerClient()
        let gig = try await market.postGig(client: client)
        var freelancers: [UUID] = []
        for _ in 0..<12 { freelancers.append(try await market.registerFreelancer()) }
        let stream = "gig-\(gig.uuidString.lowercased())"
        market.service.cache.markHot(stream, for: .seconds(120))

        struct Sent: Sendable {
            let freelancer: Int
            let kind: String  // "a", "a again", "b"
            let commandId: UUID
            let bidId: UUID
        }
        var sent: [Sent] = []
        for index in freelancers.indices {
            let a = (UUID(), UUID())
            sent.append(Sent(freelancer: index, kind: "a", commandId: a.0, bidId: a.1))
            sent.append(Sent(freelancer: index, kind: "a again", commandId: a.0, bidId: a.1))
            sent.append(Sent(freelancer: index, kind: "b", commandId: UUID(), bidId: UUID()))
        }
        let outcomes = await withTaskGroup(of: (Int, String).self) { group in
            for (n, item) in sent.enumerated() {
                let freelancer = freelancers[item.freelancer]
                group.addTask {
                    do {
                        let outcome = try await market.run([
                            "command": "PlaceBid", "commandId": .string(item.commandId.uuidString),
                            "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"),
                            "gigId": .string(gig.uuidString), "bidId": .string(item.bidId.uuidString),
                            "amount": money(200_000), "estimatedDays": 10,
                        ])
                        return (n, "placed \(outcome.events.map(\.position))")
                    } catch let error as CommandError {
                        return (n, error.code == .internalError ? "\(error)" : error.stableCode)
                    } catch {
                        return (n, "unexpected: \(error)")
                    }
                }
            }
            var outcomes = [String](repeating: "", count: sent.count)
            for await (n, outcome) in group { outcomes[n] = outcome }
            return outcomes
        }

        for index in freelancers.indices {
            let mine = sent.indices.filter { sent[$0].freelancer == index }
            let a = outcomes[mine[0]]
            let again = outcomes[mine[1]]
            let b = outcomes[mine[2]]
            #expect(a == again, "freelancer \(index): the repeat of a command gets its first answer (\(a) / \(again))")
            #expect(
                [a, b].filter { $0.hasPrefix("placed") }.count == 1 && [a, b].contains("DUPLICATE_BID"),
                "freelancer \(index): one live bid, the other refused (\(a) / \(b))")
        }
        let events = try await market.service.store.readStream(try StreamName(validating: stream))
        let bids = events.filter { $0.type == "BidPlaced" }
        #expect(bids.count == 12)
        #expect(events.map(\.version) == Array(1...Int64(events.count)))
        // The log holds exactly what was acknowledged.
        let acknowledged = Set(outcomes.filter { $0.hasPrefix("placed") })
        #expect(acknowledged.count == 12)
        let rows = try await market.service.store.pool.query(
            """
            SELECT max(commands) FROM (
                SELECT count(DISTINCT metadata->>'commandId') AS commands FROM ledger.events
                WHERE stream_id = \(stream) AND event_type = 'BidPlaced' GROUP BY transaction_id) AS per_transaction
            """)
        #expect(try rows.scalar(Int.self) > 1, "bids on the hot gig shared a transaction")
    }
}

@Suite("A cached state behind the log")
struct CachedStateBehindTheLogTests {
    /// A second service on the same store (another process of the platform): the first one's
    /// cached states fall behind the log when the second appends.
    static func twoServices(_ suite: String) async throws -> (Market, other: MarketplaceService) {
        let market = try await Market.make(suite)
        return (market, MarketplaceService(store: market.service.store, masterKey: .forTests))
    }

    /// The service caches the state its append leaves, at the stream's new version, and decides
    /// the stream's next command on it without reading the stream back.
    @Test func anAppendLeavesItsStateCachedAtTheStreamsVersion() async throws {
        let market = try await Market.make("cachedafter")
        let client = try await market.registerClient()
        let freelancer = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client)
        _ = try await market.placeBid(gig: gig, freelancer: freelancer)
        let stream = try MarketplaceStream(parsing: "gig-\(gig.uuidString.lowercased())")
        let cached = try #require(
            market.service.cache.get(MarketplaceService.cacheKey(GigDecider.self, stream), as: GigState.self))
        let fresh = MarketplaceService(store: market.service.store, masterKey: .forTests, cachedStreams: 0)
        let (state, version) = try await fresh.load(GigDecider.self, stream)
        #expect(cached.1 == 2 && version == 2)
        #expect(cached.0 == state)
    }

    /// The other service placed a bid this one has not seen. Accepting it on the cached state
    /// would be refused ("no such bid"); a refusal on a state not checked against the log is
    /// decided again on the log, so the bid is accepted, at the first attempt.
    @Test func aRefusalOnACachedStateIsDecidedAgainOnTheLog() async throws {
        let (market, other) = try await Self.twoServices("cachedrefusal")
        let client = try await market.registerClient()
        let freelancer = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client)
        let bid = UUID()
        try await other.execute(
            try CommandInput(
                fields: [
                    "command": "PlaceBid", "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"),
                    "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString), "amount": money(150_000),
                    "estimatedDays": 4,
                ], now: market.start
            ).command())
        let accepted = try await market.run([
            "command": "AcceptBid", "actor": .string("client:\(client.uuidString.lowercased())"),
            "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString),
            "contractId": .string(UUID().uuidString),
        ])
        #expect(accepted.attempts == 1)
        #expect(accepted.events.map(\.type).contains("BidAccepted"))
    }

    /// The other service appended a bid; this one, deciding a second bid on its cached state,
    /// appends expecting an older version: the store refuses it, the service reads the stream and
    /// decides again — without marking the gig contended (its next commands are not made to take
    /// turns on the stream's lock).
    @Test func anAppendOnACachedStateBehindTheLogReadsAndDecidesAgain() async throws {
        let (market, other) = try await Self.twoServices("cachedbehind")
        let client = try await market.registerClient()
        let first = try await market.registerFreelancer()
        let second = try await market.registerFreelancer()
        let gig = try await market.postGig(client: client)
        try await other.execute(
            try CommandInput(
                fields: [
                    "command": "PlaceBid", "actor": .string("freelancer:\(first.uuidString.lowercased())"),
                    "gigId": .string(gig.uuidString), "amount": money(150_000), "estimatedDays": 4,
                ], now: market.start
            ).command())
        let outcome = try await market.run([
            "command": "PlaceBid", "actor": .string("freelancer:\(second.uuidString.lowercased())"),
            "gigId": .string(gig.uuidString), "amount": money(160_000), "estimatedDays": 4,
        ])
        #expect(outcome.attempts == 2, "one append refused for its expected version, one that landed")
        #expect(outcome.events.map(\.version) == [3])
        let stream = "gig-\(gig.uuidString.lowercased())"
        #expect(!market.service.cache.isHot(stream))
        let types = try await market.service.store.readStream(try StreamName(validating: stream)).map(\.type)
        #expect(types == ["GigPosted", "BidPlaced", "BidPlaced"])
    }
}
