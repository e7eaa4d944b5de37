import EventStore
import Foundation
import GigLedger
import PQ
import Simulation
import TestSupport
import Testing

@testable import Projections

/// What a downstream team does with sql/READ_MODELS.md: recompute figures from `ledger.events`
/// alone — by the documented formulas, never through a projector's table — and compare them with
/// what the query APIs serve. Also the JSON contract of docs/JSON.md on real results.
@Suite("The read contract, recomputed from the log")
struct ReadContractRecomputeTests {
    struct Market {
        let pool: ConnectionPool
        let head: Int64
    }

    /// A simulated market, every projector caught up.
    static func market(_ name: String) async throws -> Market {
        let pool = try await TestDatabase.fresh(name, maxConnections: 6)
        let store = EventStore(pool: pool)
        _ = try await MarketSimulator(
            service: MarketplaceService(store: store, masterKey: .forTests),
            config: SimulationConfig(
                freelancers: 60, clients: 10, weeks: 3, seed: 11, gigsPerClientPerWeek: 2, workers: 4)
        ).run()
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all)
        try await engine.prepare()
        let head = try await pool.query("SELECT max(global_position) FROM ledger.events").scalar(Int64.self)
        _ = try await eventually { () async throws -> Bool? in
            try await engine.catchUpAll()
            return try await engine.status().allSatisfy { $0.checkpoint == head } ? true : nil
        }
        try await engine.releaseLeases()
        return Market(pool: pool, head: head)
    }

    @Test func figuresRecomputedFromTheRawEventsEqualTheServedOnes() async throws {
        let market = try await Self.market("recompute")
        let pool = market.pool

        // Competition per gig: the median of every bid's latest amount (revisions replace the
        // amount; withdrawn and declined bids count), 1 decimal; withheld below 5 bids.
        let latestBids: SQL = """
            WITH placed AS (
                SELECT data->>'gigId' AS gig, data->>'bidId' AS bid, (data->'amount'->>'minorUnits')::bigint AS amount
                FROM ledger.events WHERE event_type = 'BidPlaced'
            ), revised AS (
                SELECT DISTINCT ON (data->>'bidId') data->>'bidId' AS bid, (data->'amount'->>'minorUnits')::bigint AS amount
                FROM ledger.events WHERE event_type = 'BidRevised' ORDER BY data->>'bidId', global_position DESC
            )
            SELECT p.gig, count(*)::int AS n,
                   round((percentile_cont(0.5) WITHIN GROUP (ORDER BY coalesce(r.amount, p.amount)))::numeric, 1)::float8 AS median
            FROM placed p LEFT JOIN revised r USING (bid)
            GROUP BY p.gig ORDER BY count(*) DESC, p.gig
            """
        let bidsPerGig = try await pool.query(latestBids).rows
        let crowded = try bidsPerGig.filter { try $0.decode(Int.self, "n") >= 5 }.prefix(3)
        #expect(crowded.count == 3)
        let competition = Competition(pool: pool)
        for row in crowded {
            let gig = try #require(UUID(uuidString: try row.decode(String.self, "gig")))
            let served = try #require(try await competition.gig(gig))
            #expect(served.data.bidsTotal == (try row.decode(Int.self, "n")))
            #expect(served.data.medianBidMinor == (try row.decode(Double.self, "median")))
            #expect(
                served.checkpoints == [
                    ReadCheckpoint(projection: "competition_gigs", version: 1, position: market.head)
                ])
        }
        if let few = try bidsPerGig.last(where: { try $0.decode(Int.self, "n") < 5 }) {
            let fewID = try #require(UUID(uuidString: try few.decode(String.self, "gig")))
            let served = try #require(try await competition.gig(fewID))
            #expect(served.data.medianBidMinor == nil && served.data.minBidMinor == nil)
        }

        // Fill rate per skill and ISO week: gigs of the week (by GigPosted's business time, UTC
        // Monday weeks) that were ever awarded ÷ gigs posted, 4 decimals.
        let cohorts = try await pool.query(
            """
            WITH posted AS (
                SELECT data->>'gigId' AS gig, s.skill, date_trunc('week', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS week_start
                FROM ledger.events, jsonb_array_elements_text(data->'skills') AS s(skill) WHERE event_type = 'GigPosted'
            ), awarded AS (SELECT DISTINCT data->>'gigId' AS gig FROM ledger.events WHERE event_type = 'BidAccepted')
            SELECT p.skill, p.week_start, count(*)::int AS posted, count(a.gig)::int AS awarded
            FROM posted p LEFT JOIN awarded a USING (gig)
            GROUP BY p.skill, p.week_start ORDER BY count(*) DESC, p.skill, p.week_start LIMIT 4
            """
        ).rows
        #expect(cohorts.count == 4)
        for cohort in cohorts {
            let skill = try cohort.decode(String.self, "skill")
            let week = try cohort.decode(Date.self, "week_start")
            let served = try await competition.skillWeeks(skill: skill, weeks: 520)
            let row = try #require(served.data.first { $0.weekStart == week }, "\(skill) \(week)")
            let posted = try cohort.decode(Int.self, "posted")
            #expect(row.gigsPosted == posted)
            #expect(row.contractsStarted == (try cohort.decode(Int.self, "awarded")))
            #expect(row.fillRate == rounded(Double(try cohort.decode(Int.self, "awarded")) / Double(posted), places: 4))
            #expect(served.checkpoints.map(\.position) == [market.head, market.head])
        }

        // Price weeks, clearing series: each accepted amount, once per skill of its gig, in the
        // award's ISO week; continuous percentiles, 1 decimal.
        let clearing = try await pool.query(
            """
            WITH skills AS (
                SELECT data->>'gigId' AS gig, s.skill FROM ledger.events, jsonb_array_elements_text(data->'skills') AS s(skill)
                WHERE event_type = 'GigPosted'
            ), awards AS (
                SELECT data->>'gigId' AS gig, data->'agreedAmount'->>'currency' AS currency,
                       (data->'agreedAmount'->>'minorUnits')::bigint AS amount,
                       date_trunc('week', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS week_start
                FROM ledger.events WHERE event_type = 'BidAccepted'
            )
            SELECT s.skill, a.currency, a.week_start, count(*)::int AS n,
                   round((percentile_cont(0.25) WITHIN GROUP (ORDER BY a.amount))::numeric, 1)::float8 AS p25,
                   round((percentile_cont(0.9) WITHIN GROUP (ORDER BY a.amount))::numeric, 1)::float8 AS p90
            FROM awards a JOIN skills s USING (gig)
            GROUP BY s.skill, a.currency, a.week_start ORDER BY count(*) DESC, 1, 2, 3 LIMIT 3
            """
        ).rows
        #expect(clearing.count == 3)
        let prices = Prices(pool: pool)
        for expected in clearing {
            let skill = try expected.decode(String.self, "skill")
            let week = try expected.decode(Date.self, "week_start")
            let served = try await prices.weeks(skill: skill, currency: try expected.decode(String.self, "currency"))
            let row = try #require(served.data.first { $0.series == .clearing && $0.weekStart == week })
            #expect(row.n == (try expected.decode(Int.self, "n")))
            #expect(row.p25Minor == (try expected.decode(Double.self, "p25")))
            #expect(row.p90Minor == (try expected.decode(Double.self, "p90")))
            #expect(row.lowballShare == nil)
        }

        // One match score, from the facts folded out of the events by READ_MODELS.md's formulas.
        try await Self.recomputeOneMatch(pool)
    }

    /// Folds freelancers, contracts and a gig out of the raw events and scores them by the
    /// documented formulas (weights v1), against `Matching.explain`.
    static func recomputeOneMatch(_ pool: ConnectionPool) async throws {
        struct Freelancer {
            var skills: [String: Int] = [:]
            var rate: Int64 = 0
            var currency = ""
            var hours = 0
        }
        struct Contract {
            let freelancer: String
            var outcome: String?
            var rating: Int?
        }
        var freelancers: [String: Freelancer] = [:]
        var contracts: [String: Contract] = [:]
        var gigs: [String: (skills: [String], currency: String, min: Int64, max: Int64, hours: Int?)] = [:]
        let events = try await pool.query(
            """
            SELECT event_type, data::text FROM ledger.events ORDER BY transaction_id, global_position
            """
        ).rows
        func money(_ value: Any?) -> (Int64, String) {
            let object = value as? [String: Any] ?? [:]
            return ((object["minorUnits"] as? NSNumber)?.int64Value ?? 0, object["currency"] as? String ?? "")
        }
        func claims(_ value: Any?) -> [String: Int] {
            var levels: [String: Int] = [:]
            for claim in value as? [[String: Any]] ?? [] {
                if let skill = claim["skill"] as? String {
                    levels[skill] = (claim["level"] as? NSNumber)?.intValue ?? 0
                }
            }
            return levels
        }
        for row in events {
            let type = try row.decode(String.self, at: 0)
            let data =
                try JSONSerialization.jsonObject(with: Data(try row.decode(String.self, at: 1).utf8)) as? [String: Any]
                ?? [:]
            let freelancer = data["freelancerId"] as? String ?? ""
            let contract = data["contractId"] as? String ?? ""
            switch type {
            case "FreelancerRegistered":
                let (rate, currency) = money(data["hourlyRate"])
                freelancers[freelancer] = Freelancer(
                    skills: claims(data["skills"]), rate: rate, currency: currency,
                    hours: (data["hoursPerWeek"] as? NSNumber)?.intValue ?? 0)
            case "SkillsUpdated": freelancers[freelancer]?.skills = claims(data["skills"])
            case "RateChanged":
                let (rate, currency) = money(data["hourlyRate"])
                freelancers[freelancer]?.rate = rate
                freelancers[freelancer]?.currency = currency
            case "AvailabilityChanged":
                freelancers[freelancer]?.hours = (data["hoursPerWeek"] as? NSNumber)?.intValue ?? 0
            case "GigPosted":
                let (min, currency) = money(data["budgetMin"])
                let (max, _) = money(data["budgetMax"])
                let hours = ((data["engagement"] as? [String: Any])?["hours"] as? NSNumber)?.intValue
                gigs[data["gigId"] as? String ?? ""] = (data["skills"] as? [String] ?? [], currency, min, max, hours)
            case "ContractStarted": contracts[contract] = Contract(freelancer: freelancer)
            case "ContractCompleted" where contracts[contract]?.outcome == nil:
                contracts[contract]?.outcome = "completed"
            case "ContractCancelled" where contracts[contract]?.outcome == nil: contracts[contract]?.outcome = "failed"
            case "ReviewSubmitted" where data["authorSide"] as? String == "client":
                contracts[contract]?.rating = (data["rating"] as? NSNumber)?.intValue
            default: break
            }
        }
        // A freelancer with finished, rated contracts and a gig it has a skill of.
        let veteran = try #require(
            freelancers.keys.sorted().first { id in
                contracts.values.contains { $0.freelancer == id && $0.outcome == "completed" && $0.rating != nil }
            })
        let me = try #require(freelancers[veteran])
        let (gigID, gig) = try #require(
            gigs.sorted { $0.key < $1.key }.first { entry in entry.value.skills.contains { me.skills[$0] != nil } })

        let population = Double(freelancers.count)
        func idf(_ skill: String) -> Double {
            let df = Double(freelancers.values.filter { $0.skills[skill] != nil }.count)
            return log((population + 1) / (df + 1)) + 1
        }
        let total = gig.skills.map(idf).reduce(0, +)
        let covered = gig.skills.map { skill in idf(skill) * Double(me.skills[skill] ?? 0) / 3 }.reduce(0, +)
        let coverage = covered / total
        // An hourly gig's own hours, else 40.
        let price = Double(me.rate) * Double(gig.hours ?? 40)
        let budgetFit =
            me.currency != gig.currency
            ? 0 : max(0, 1 - max(Double(gig.min) - price, price - Double(gig.max), 0) / Double(gig.max))
        let mine = contracts.values.filter { $0.freelancer == veteran }
        let active = mine.filter { $0.outcome == nil }.count
        let completed = mine.filter { $0.outcome == "completed" }.count
        let failed = mine.filter { $0.outcome == "failed" }.count
        let ratings = mine.compactMap(\.rating)
        let availability = me.hours <= 0 ? 0 : max(0, (Double(me.hours) - 10 * Double(active)) / Double(me.hours))
        let reputation =
            0.5 * (((5 * 4 + Double(ratings.reduce(0, +))) / (5 + Double(ratings.count)) - 1) / 4) + 0.5
            * ((Double(completed) + 2) / (Double(completed + failed) + 2 + 1))
        let score = 0.5 * coverage + 0.2 * budgetFit + 0.1 * availability + 0.2 * reputation

        let gigUUID = try #require(UUID(uuidString: gigID))
        let freelancerUUID = try #require(UUID(uuidString: veteran))
        let served = try #require(
            try await Matching(pool: pool, weights: .v1).explain(gig: gigUUID, freelancer: freelancerUUID))
        let tolerance = 0.00005 + 1e-12
        #expect(abs(served.data.coverage - coverage) <= tolerance)
        #expect(abs(served.data.budgetFit - budgetFit) <= tolerance)
        #expect(abs(served.data.availability - availability) <= tolerance)
        #expect(abs(served.data.reputation - reputation) <= tolerance)
        #expect(abs(served.data.score - score) <= tolerance)
        #expect(!served.data.newcomer)
    }

    @Test func theJSONContractPagesAndOneTimestampType() async throws {
        let market = try await Self.market("jsoncontract")
        let pool = market.pool
        // One timestamp type: week_start is timestamptz in both week views and the kept weeks.
        let types = try await pool.query(
            """
            SELECT table_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = 'read_models' AND column_name = 'week_start' ORDER BY 1
            """
        ).rows.map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(String.self, at: 1))" }
        #expect(
            types == [
                "competition_skill_weeks_v1 timestamp with time zone",
                "price_closed_weeks_v1 timestamp with time zone", "price_weeks_v1 timestamp with time zone",
            ])

        // Pages: walking a list with a small limit gives exactly the one-page list.
        let competition = Competition(pool: pool)
        let whole = try await competition.skillWeeks(weeks: 520, limit: 1000)
        #expect(whole.nextCursor == nil && whole.data.count > 10)
        var walked: [Competition.SkillWeek] = []
        var cursor: String?
        repeat {
            let page = try await competition.skillWeeks(weeks: 520, limit: 7, after: cursor)
            walked += page.data
            cursor = page.nextCursor
        } while cursor != nil
        #expect(walked == whole.data)
        await #expect(throws: ReadQueryError.self) { try await competition.skillWeeks(after: "not-a-cursor") }
        await #expect(throws: ReadQueryError.self) { try await competition.skillWeeks(limit: 0) }

        // Every (skill, currency) with prices has a trend row; walking trends page by page too.
        let prices = Prices(pool: pool)
        let trends = try await prices.trends(limit: 1000)
        let pairs = try await pool.query(
            "SELECT count(*)::int FROM (SELECT DISTINCT skill, currency FROM read_models.price_weeks_v1) p"
        ).scalar(Int.self)
        #expect(trends.data.count == pairs)
        var trendPages: [Prices.Trend] = []
        cursor = nil
        repeat {
            let page = try await prices.trends(limit: 5, after: cursor)
            trendPages += page.data
            cursor = page.nextCursor
        } while cursor != nil
        #expect(trendPages == trends.data)
        #expect(trends.data.contains { $0.slopePctPerWeek == nil && $0.weeksUsed < 2 })

        // JSON: lower-case ids, explicit nulls, fixed decimals, plain enum strings, RFC 3339 times,
        // whatever the encoder's own settings.
        let encoder = JSONEncoder()
        let gigID = try await pool.query(
            "SELECT gig_id FROM read_models.competition_gigs_v1 WHERE bids_total < 5 ORDER BY gig_id LIMIT 1"
        ).scalar(UUID.self)
        let gig = try #require(try await competition.gig(gigID))
        let object =
            try JSONSerialization.jsonObject(with: try encoder.encode(gig)) as? [String: Any] ?? [:]
        let data = object["data"] as? [String: Any] ?? [:]
        #expect(data["gigId"] as? String == gigID.uuidString.lowercased())
        #expect(data["medianBidMinor"] is NSNull)
        #expect(data["minBidMinor"] is NSNull)
        #expect(["open", "awarded", "closed"].contains(data["status"] as? String ?? ""))
        #expect((data["postedAt"] as? String)?.hasSuffix("Z") == true)
        #expect((object["checkpoints"] as? [[String: Any]])?.first?["position"] as? Int64 == market.head)
        // Decoding gives the same JSON back (times are kept to the millisecond).
        let roundTrip = try JSONDecoder().decode(Snapshot<Competition.Gig>.self, from: try encoder.encode(gig))
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(roundTrip) == (try encoder.encode(gig)))

        let someGig = try await pool.query(
            """
            SELECT g.gig_id FROM read_models.match_gigs_v4 g
            WHERE EXISTS (SELECT 1 FROM read_models.match_freelancer_skills_v4 s WHERE s.skill = ANY(g.skills))
            ORDER BY g.gig_id LIMIT 1
            """
        ).scalar(UUID.self)
        let candidates = try await Matching(pool: pool).candidates(forGig: someGig, k: 10)
        #expect(!candidates.data.isEmpty)
        let text = String(decoding: try encoder.encode(candidates), as: UTF8.self)
        #expect(!text.contains(someGig.uuidString))
        #expect(text.contains(someGig.uuidString.lowercased()))
        for match in candidates.data {
            for value in [match.score, match.coverage, match.budgetFit, match.availability, match.reputation] {
                #expect(value == rounded(value, places: 4))
                #expect("\(value)".count <= 6, "\(value) has more than 4 decimals")
            }
        }
    }
}
