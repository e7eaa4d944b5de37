import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Simulation
import TestSupport
import Testing

@testable import GigLedger

@Suite("The market simulator")
struct SimulationTests {
    static let config = SimulationConfig(
        freelancers: 30, clients: 8, weeks: 2, seed: 42, gigsPerClientPerWeek: 1.2, workers: 4,
        endingInWeekOf: Self.fixedWeek)
    /// A fixed anchor: the runs this suite compares are byte-identical on any day (around
    /// midnight of a Sunday two runs anchored at "now" could fall in two different weeks).
    static let fixedWeek = Date(timeIntervalSince1970: 1_768_176_000)  // Monday 2026-01-12

    func simulate(
        _ label: String, _ config: SimulationConfig = Self.config, grouping: AppendGrouping? = nil,
        cachedStreams: Int = 10_000
    ) async throws -> (EventStore, SimulationSummary) {
        let (store, summary, _) = try await simulateKeepingService(
            label, config, grouping: grouping, cachedStreams: cachedStreams)
        return (store, summary)
    }

    func simulateKeepingService(
        _ label: String, _ config: SimulationConfig = Self.config, grouping: AppendGrouping? = nil,
        cachedStreams: Int = 10_000
    ) async throws -> (EventStore, SimulationSummary, MarketplaceService) {
        let pool = try await TestDatabase.fresh(label, maxConnections: config.workers + 2)
        let store = EventStore(pool: pool, grouping: grouping)
        let service = MarketplaceService(store: store, masterKey: .forTests, cachedStreams: cachedStreams)
        let summary = try await MarketSimulator(service: service, config: config).run()
        return (store, summary, service)
    }

    /// Every stream's events as (type, data), by stream name, personal fields opened (they are
    /// sealed with random nonces under per-database keys, so only the plaintext can be equal).
    func streams(_ store: EventStore) async throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        let rows = try await store.pool.query(
            "SELECT stream_id, event_type, data::text FROM ledger.events ORDER BY stream_id, stream_version")
        let events = try rows.rows.map {
            EncodedEvent(
                type: try $0.decode(String.self, at: 1), schemaVersion: 1,
                data: Data(try $0.decode(String.self, at: 2).utf8))
        }
        let revealing = try await PersonalDataVault(pool: store.pool, masterKey: .forTests).revealing(
            events, in: .marketplace)
        for (row, event) in zip(rows.rows, events) {
            out[try row.decode(String.self, at: 0), default: []].append(
                event.type + " " + String(decoding: try revealing.reveal(event).data, as: UTF8.self))
        }
        return out
    }

    @Test func theSameSeedGivesTheSameLog() async throws {
        let (first, a) = try await simulate("simseed")
        let (second, b) = try await simulate("simseed")
        #expect(a.events == b.events)
        #expect(a.eventsByType == b.eventsByType)
        #expect(try await streams(first) == streams(second))
        var other = Self.config
        other.seed = 43
        let (_, c) = try await simulate("simseed", other)
        #expect(c.eventsByType != a.eventsByType)
    }

    /// `gigctl simulate --group-appends`: many writers' appends coalesced into group
    /// transactions write the same log, stream by stream, as appends one by one.
    @Test func groupedAppendsGiveTheSameLog() async throws {
        try await expectTheSameLog(
            "simgroup", (grouping: nil, cachedStreams: 10_000), (grouping: AppendGrouping(), cachedStreams: 10_000))
    }

    /// The configured market on 16 workers, simulated by two services set up as given: the
    /// second meets no unexpected refusal, and both write the same log, stream by stream.
    func expectTheSameLog(
        _ label: String, _ first: (grouping: AppendGrouping?, cachedStreams: Int),
        _ second: (grouping: AppendGrouping?, cachedStreams: Int)
    ) async throws {
        var config = Self.config
        config.workers = 16
        let (one, a) = try await simulate(
            label, config, grouping: first.grouping, cachedStreams: first.cachedStreams)
        let (other, b) = try await simulate(
            label, config, grouping: second.grouping, cachedStreams: second.cachedStreams)
        #expect(b.unexpectedRejections == 0, "\(b.unexpectedMessages)")
        #expect(a.eventsByType == b.eventsByType)
        #expect(a.expectedRejections == b.expectedRejections)
        let same = try await streams(one) == streams(other)
        #expect(same, "every stream holds the same events")
    }

    /// The service decides a stream's next command on the state its last append left in the
    /// cache, without reading the stream back. Deciding so writes the same log, stream by stream,
    /// as a service that reads every stream before every command.
    @Test func decidingOnCachedStatesWritesTheSameLogAsReadingEveryStream() async throws {
        try await expectTheSameLog(
            "simcache", (grouping: nil, cachedStreams: 0), (grouping: AppendGrouping(), cachedStreams: 10_000))
    }

    /// Every state the service cached after its appends is the stream's fold from the log, at
    /// the stream's version: folding the decided events in memory agrees with reading them back.
    @Test func theStatesCachedAfterAppendsAreTheLogsFolds() async throws {
        let (store, _, service) = try await simulateKeepingService("simcachefold")
        let reader = MarketplaceService(store: store, masterKey: .forTests, cachedStreams: 0)
        let names = try await store.pool.query("SELECT stream_id, version FROM ledger.streams").rows.map {
            (try $0.decode(String.self, at: 0), try $0.decode(Int64.self, at: 1))
        }
        var compared = 0
        func check<D: Decider>(_ decider: D.Type, _ stream: MarketplaceStream, _ version: Int64) async throws {
            let key = MarketplaceService.cacheKey(D.self, stream)
            guard let (cached, cachedVersion) = service.cache.get(key, as: D.State.self) else { return }
            let (state, logVersion) = try await reader.load(D.self, stream)
            #expect(cachedVersion == version && logVersion == version, "\(stream.name)")
            #expect(cached == state, "\(stream.name): the cached state is not the log's fold")
            compared += 1
        }
        for (name, version) in names {
            let stream = try MarketplaceStream(parsing: name)
            switch stream.category {
            case .gig: try await check(GigDecider.self, stream, version)
            case .contract: try await check(ContractDecider.self, stream, version)
            case .freelancer: try await check(FreelancerDecider.self, stream, version)
            case .client: try await check(ClientDecider.self, stream, version)
            case .privacy: Issue.record("the simulator forgot someone: \(name)")
            }
        }
        #expect(compared > names.count / 2, "most streams are cached (\(compared) of \(names.count))")
    }

    @Test func everyCommandSucceedsOrGetsTheRejectionItWasMeantToProvoke() async throws {
        let config = SimulationConfig(
            freelancers: 60, clients: 12, weeks: 3, seed: 7, gigsPerClientPerWeek: 1.5, workers: 4)
        let (store, summary) = try await simulate("simrules", config)
        #expect(summary.unexpectedRejections == 0, "\(summary.unexpectedMessages)")
        #expect(summary.events > 200)
        // The log holds exactly what the summary counted.
        let stored = try await store.pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        #expect(stored == summary.events)
        // The whole lifecycle appears.
        for type in [
            "FreelancerRegistered", "ClientRegistered", "GigPosted", "BidPlaced", "BidAccepted", "ContractStarted",
            "DeliverySubmitted", "DeliveryApproved", "PaymentReleased", "ContractCompleted", "ReviewSubmitted",
            "GigClosed",
        ] {
            #expect((summary.eventsByType[type] ?? 0) > 0, "no \(type)")
        }
    }

    @Test func theLogFoldsToValidStatesForEveryStream() async throws {
        let (store, summary) = try await simulate("simfold")
        let grouped = try await streams(store)
        let service = MarketplaceService(store: store, masterKey: .forTests, cachedStreams: 0)
        var paidContracts = 0
        for name in grouped.keys {
            let stream = try MarketplaceStream(parsing: name)
            switch stream.category {
            case .gig:
                let (state, version) = try await service.load(GigDecider.self, stream)
                #expect(version == Int64(grouped[name]?.count ?? -1))
                let gig = try #require(state.gig)
                // At most one accepted bid, and an awarded gig's contract stream exists.
                let accepted = grouped[name]?.filter { $0.hasPrefix("BidAccepted ") }.count ?? 0
                #expect(accepted <= 1)
                if let award = gig.award { #expect(grouped[award.contractID.streamName] != nil) }
            case .contract:
                let (state, _) = try await service.load(ContractDecider.self, stream)
                let contract = try #require(state.contract)
                if contract.payment != nil { paidContracts += 1 }
                let payments = grouped[name]?.filter { $0.hasPrefix("PaymentReleased ") }.count ?? 0
                #expect(payments <= 1)
            case .freelancer:
                #expect(try await service.load(FreelancerDecider.self, stream).state.isRegistered)
            case .client:
                #expect(try await service.load(ClientDecider.self, stream).state.isRegistered)
            case .privacy:
                Issue.record("the simulator forgot someone: \(name)")
            }
        }
        #expect(paidContracts == summary.eventsByType["PaymentReleased"] ?? 0)
    }

    @Test func aSmallMarketsSummaryMatchesTheLog() async throws {
        let (store, summary) = try await simulate("simsummary")
        let byType = try await store.pool.query("SELECT event_type, count(*) FROM ledger.events GROUP BY event_type")
        var counted: [String: Int] = [:]
        for row in byType.rows { counted[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1) }
        #expect(counted == summary.eventsByType)
        #expect(summary.eventsByType["FreelancerRegistered"] == Self.config.freelancers)
        #expect(summary.eventsByType["ClientRegistered"] == Self.config.clients)
        #expect(summary.eventsByType["GigPosted"] == summary.gigs)
        #expect(try await store.pool.query("SELECT count(*) FROM ledger.streams").scalar(Int.self) == summary.streams)
        // Gigs: every posted gig was awarded, expired or cancelled.
        #expect(summary.gigsByOutcome.values.reduce(0, +) == summary.gigs)
        #expect(summary.gigsByOutcome["awarded"] == summary.eventsByType["BidAccepted"])
        let paid = try await store.pool.query(
            """
            SELECT data->'gross'->>'currency' AS c, sum((data->'gross'->>'minorUnits')::bigint)::bigint AS s
            FROM ledger.events WHERE event_type = 'PaymentReleased' GROUP BY 1
            """)
        var paidByCurrency: [String: Int64] = [:]
        for row in paid.rows { paidByCurrency[try row.decode(String.self, at: 0)] = try row.decode(Int64.self, at: 1) }
        #expect(paidByCurrency == summary.paid)
    }

    @Test func theCalendarEndsInTheAnchorsISOWeek() throws {
        // By default the last simulated week is the current one (UTC).
        let now = Date()
        let current = SimulationConfig(freelancers: 10, clients: 5, weeks: 4, seed: 1)
        // (Read the clock on both sides: a run at midnight of a Sunday may see two weeks.)
        #expect(
            [SimulationConfig.weekStart(of: now), SimulationConfig.weekStart(of: Date())].contains(current.lastWeek))
        #expect(current.start == current.lastWeek.addingTimeInterval(-3 * 7 * 86_400))
        let plan = MarketPlan(current)
        let lastPosted = try #require(plan.gigs.last?.postedAt)
        #expect(lastPosted >= current.lastWeek && lastPosted < current.lastWeek.addingTimeInterval(7 * 86_400))

        // An explicit anchor: any day of a week gives that week, hence the same plan on any day.
        let wednesday = Date(timeIntervalSince1970: 1_768_348_800)  // 2026-01-14, a Wednesday
        let sunday = Date(timeIntervalSince1970: 1_768_694_399)  // 2026-01-18 23:59:59, its Sunday
        #expect(SimulationConfig.weekStart(of: wednesday) == Self.fixedWeek)
        #expect(SimulationConfig.weekStart(of: sunday) == Self.fixedWeek)
        #expect(SimulationConfig.weekStart(of: Self.fixedWeek) == Self.fixedWeek)
        #expect(SimulationConfig.weekStart(of: Self.fixedWeek.addingTimeInterval(-1)) == Self.fixedWeek - 7 * 86_400)
        let a = MarketPlan(SimulationConfig(freelancers: 10, clients: 5, weeks: 4, seed: 1, endingInWeekOf: wednesday))
        let b = MarketPlan(SimulationConfig(freelancers: 10, clients: 5, weeks: 4, seed: 1, endingInWeekOf: sunday))
        #expect(a.gigs.map(\.postedAt) == b.gigs.map(\.postedAt))
    }
}
