import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Simulation
import TestSupport
import Testing

@testable import Projections

@Suite("Fairness audit: cohorts, shares, the four-fifths rule")
struct FairnessAuditTests {
    /// Cohort figures computed by hand: qualified pairs, top-k places, bids, awards.
    @Test func handComputedCohorts() throws {
        let cohorts = FairnessAudit.cohorts(
            "country", ["DE": [40, 20, 30, 10], "FR": [40, 10, 30, 2], "IN": [10, 5, 5, 1]], minimumSample: 20)
        #expect(cohorts.map(\.cohort) == ["DE", "FR", "IN"])
        let (de, fr, india) = (cohorts[0], cohorts[1], cohorts[2])
        // Totals: 90 qualified, 35 places, 65 bids, 13 awards.
        #expect(de.qualifiedShare == 0.4444 && de.exposureShare == 0.5714)
        // DE: (20/35) ÷ (40/90) = 1.2857; FR: (10/35) ÷ (40/90) = 0.6429, half of DE's.
        #expect(de.exposureRatio == 1.2857 && fr.exposureRatio == 0.6429)
        #expect(de.exposureDisparity == 1 && fr.exposureDisparity == 0.5)
        // Awards: DE (10/13) ÷ (30/65) = 1.6667; FR (2/13) ÷ (30/65) = 0.3333, a fifth of DE's.
        #expect(de.awardRatio == 1.6667 && fr.awardRatio == 0.3333 && fr.awardDisparity == 0.2)
        // Significance (Poisson rates against DE's): exposure 0.25 / √(20/40² + 10/40²) = 1.8257, under
        // 1.96, so FR's exposure gap alone would not be flagged; awards (10/30 − 2/30) /
        // √(10/30² + 2/30²) = 2.3094 is: FR is flagged.
        #expect(de.exposureZ == 0 && fr.exposureZ == 1.8257 && fr.awardZ == 2.3094)
        #expect(!de.flagged && fr.flagged)
        // IN: 10 qualified pairs and 5 bids, under the minimum sample of 20: not judged.
        #expect(india.exposureRatio == nil && india.awardRatio == nil && !india.flagged)
        #expect(india.bidShare == 0.0769 && india.awardShare == 0.0769)
    }

    static func market(_ label: String, favouring country: String?) async throws -> FairnessAudit.Report {
        let pool = try await TestDatabase.fresh(label, maxConnections: 6)
        let store = EventStore(pool: pool)
        var config = SimulationConfig(
            freelancers: 500, clients: 40, weeks: 4, seed: 21, gigsPerClientPerWeek: 4, workers: 4,
            endingInWeekOf: Date(timeIntervalSince1970: 1_790_000_000))
        config.favouredCountry = country
        let summary = try await MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests), config: config
        ).run()
        #expect(summary.unexpectedRejections == 0)
        let engine = ProjectionEngine(store: store, projectors: [MatchingProjector()], owner: label, batchSize: 1_000)
        try await engine.prepare()
        _ = try await eventually(timeout: .seconds(120)) { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await engine.status().allSatisfy { $0.eventsApplied >= Int64(summary.events) } ? true : nil
        }
        let report = try await FairnessAudit(pool: pool).run(weeks: 4, k: 10).data
        await pool.close()
        return report
    }

    /// Clients who prefer one country: the audit flags the countries it disfavours on awards; the
    /// same market without the bias has none flagged on awards.
    @Test func flagsThePlantedBiasAndNotTheFairMarket() async throws {
        let biased = try await Self.market("auditbiased", favouring: "IN")
        let fair = try await Self.market("auditfair", favouring: nil)
        #expect(biased.gigs > 400 && fair.gigs == biased.gigs)
        let countries = biased.cohorts.filter { $0.dimension == "country" }
        #expect(Set(countries.map(\.cohort)) == ["BR", "DE", "FR", "IN", "US"])
        let favoured = try #require(countries.first { $0.cohort == "IN" })
        #expect(favoured.awardDisparity == 1, "IN has the best award ratio")
        #expect((favoured.awardRatio ?? 0) > 1.5, "IN wins far more than its share of bids")
        let awardGaps = countries.filter { ($0.awardDisparity ?? 1) < 0.8 && ($0.awardZ ?? 0) >= 1.96 }
        #expect(awardGaps.count >= 3, "\(countries.map { ($0.cohort, $0.awardDisparity, $0.awardZ) })")
        #expect(awardGaps.allSatisfy { $0.flagged })
        // Without the bias no country is flagged for its awards (the decision the bias is in), and
        // the would-be favourite wins about its share of its bids.
        let fairCountries = fair.cohorts.filter { $0.dimension == "country" }
        // Known bug (issue 16, open): the unbiased market still shows one country with a
        // significant award gap. Recorded as a known issue until explained and fixed (this fails
        // once no country is flagged; then remove the wrapper).
        withKnownIssue("fairness audit: a country flagged on the unbiased market") {
            #expect(
                fairCountries.allSatisfy { !(($0.awardDisparity ?? 1) < 0.8 && ($0.awardZ ?? 0) >= 1.96) },
                "\(fairCountries.map { ($0.cohort, $0.awardDisparity, $0.awardZ) })")
        }
        let unfavoured = try #require(fairCountries.first { $0.cohort == "IN" })
        #expect(abs((unfavoured.awardRatio ?? 0) - 1) < 0.3)
        // Every dimension is reported, with shares summing to 1.
        for dimension in ["tenure", "country", "rateBand"] {
            let cohorts = fair.cohorts.filter { $0.dimension == dimension }
            #expect(!cohorts.isEmpty)
            #expect(abs(cohorts.map(\.qualifiedShare).reduce(0, +) - 1) < 0.001)
            #expect(abs(cohorts.map(\.bidShare).reduce(0, +) - 1) < 0.001)
        }
    }
}
