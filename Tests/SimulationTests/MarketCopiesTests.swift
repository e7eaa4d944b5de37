import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Simulation
import TestSupport
import Testing

/// `gigbench scale`'s copies of a market (`MarketCopies`): copy 0 is the source; other copies are
/// still valid logs (they import, and every event decodes with the marketplace registry), differ
/// from each other where the score looks, and keep a bid's amount equal to its acceptance's.
@Suite("Copies of a simulated market")
struct MarketCopiesTests {
    final class Bytes: @unchecked Sendable {
        let lock = NSLock()
        var bytes: [UInt8] = []
        func append(_ buffer: UnsafeRawBufferPointer) {
            lock.lock()
            bytes.append(contentsOf: buffer)
            lock.unlock()
        }
    }

    /// A small simulated market and its export, line by line.
    static func market() async throws -> (EventStore, [ArraySlice<UInt8>]) {
        let config = SimulationConfig(
            freelancers: 40, clients: 10, weeks: 3, seed: 11, gigsPerClientPerWeek: 1.5, workers: 4,
            endingInWeekOf: SimulationTests.fixedWeek)
        let pool = try await TestDatabase.fresh("mcsource", maxConnections: config.workers + 2)
        let store = EventStore(pool: pool)
        _ = try await MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests), config: config
        ).run()
        let out = Bytes()
        try await store.export { out.append($0) }
        return (store, out.bytes.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty })
    }

    static func object(_ line: some Collection<UInt8>) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
    }

    /// The lines of copy `k`.
    static func copy(_ k: Int, of lines: [ArraySlice<UInt8>], _ copies: MarketCopies) throws -> [[UInt8]] {
        try lines.map { try copies.vary($0, copy: k) ?? Array($0) }
    }

    /// data[field] of each line of `type`, by its data[id] (the last one wins).
    static func field(_ lines: [[UInt8]], type: String, id: String, _ field: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for line in lines {
            let object = try object(line)
            guard object["type"] as? String == type, let data = object["data"] as? [String: Any],
                let key = data[id] as? String, let value = data[field]
            else { continue }
            out[key] = String(
                decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]),
                as: UTF8.self)
        }
        return out
    }

    @Test func copiesAreValidDistinctMarketsAndCopyZeroIsTheSource() async throws {
        let (store, lines) = try await Self.market()
        #expect(lines.count > 500)
        let copies = MarketCopies(sourceLines: lines)

        // Copy 0 is the source, byte for byte.
        let zero = try Self.copy(0, of: lines, copies)
        #expect(zero == lines.map { Array($0) })

        let one = try Self.copy(1, of: lines, copies)
        let two = try Self.copy(2, of: lines, copies)
        #expect(one != zero)

        // Every event of copy 1 decodes with the marketplace registry (levels in 1…3, valid money,
        // ratings as numbers); ranges checked below.
        let encoded = try one.map { line in
            let object = try Self.object(line)
            let data = try JSONSerialization.data(withJSONObject: try #require(object["data"]))
            return EncodedEvent(
                type: try #require(object["type"] as? String),
                schemaVersion: try #require(object["schemaVersion"] as? Int), data: data)
        }
        let registry = try await PersonalDataVault(pool: store.pool, masterKey: .forTests).revealing(
            encoded, in: .marketplace)
        var decoded = 0
        for event in encoded {
            _ = try registry.decode(try registry.reveal(event))
            decoded += 1
        }
        #expect(decoded == lines.count)

        // Two copies differ in what the score depends on: most freelancers' rates and gigs' budgets.
        for (type, id, field) in [
            ("FreelancerRegistered", "freelancerId", "hourlyRate"), ("GigPosted", "gigId", "budgetMax"),
            ("FreelancerRegistered", "freelancerId", "skills"),
        ] {
            let a = try Self.field(one, type: type, id: id, field)
            let b = try Self.field(two, type: type, id: id, field)
            let differing = a.keys.filter { a[$0] != b[$0] }.count
            #expect(a.count > 5)
            #expect(
                differing * 2 > a.count, "\(type).\(field): \(differing) of \(a.count) differ between copies 1 and 2")
        }

        // Levels and ratings stay in range; an accepted bid's amount equals the bid's (when it did in the source).
        for line in one {
            let object = try Self.object(line)
            let data = try #require(object["data"] as? [String: Any])
            for claim in data["skills"] as? [[String: Any]] ?? [] {
                let level = try #require(claim["level"] as? Int)
                #expect((1...3).contains(level))
            }
            if let rating = data["rating"] as? Int { #expect((1...5).contains(rating)) }
            if let hours = data["hoursPerWeek"] as? Int { #expect((0...168).contains(hours)) }
        }
        let sourceLines = lines.map { Array($0) }
        for copy in [sourceLines, one] {
            let bids = try Self.field(copy, type: "BidPlaced", id: "bidId", "amount")
            let revised = try Self.field(copy, type: "BidRevised", id: "bidId", "amount")
            let accepted = try Self.field(copy, type: "BidAccepted", id: "bidId", "agreedAmount")
            #expect(!accepted.isEmpty)
            let sourceBids = try Self.field(sourceLines, type: "BidPlaced", id: "bidId", "amount")
            let sourceRevised = try Self.field(sourceLines, type: "BidRevised", id: "bidId", "amount")
            let sourceAccepted = try Self.field(sourceLines, type: "BidAccepted", id: "bidId", "agreedAmount")
            for (bid, amount) in accepted where sourceAccepted[bid] == (sourceRevised[bid] ?? sourceBids[bid]) {
                #expect(amount == (revised[bid] ?? bids[bid]), "bid \(bid)")
            }
        }

        // Copy 1 imports into a fresh log, which then holds its events.
        let target = EventStore(pool: try await TestDatabase.fresh("mccopy"))
        let bytes: [UInt8] = one.flatMap { $0 + [UInt8(0x0A)] }
        let report = try await target.importLog { writer in
            try bytes.withUnsafeBytes { try writer.write($0) }
        }
        #expect(report.events == Int64(lines.count))
    }
}
