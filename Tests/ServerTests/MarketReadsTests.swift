import EventStore
import Foundation
import HummingbirdTesting
import Projections
import Server
import TestSupport
import Testing

/// Competition and prices over HTTP: the library's results as bodies, read-your-writes, the
/// checkpoint header, 304, paging by the lists' own cursors, scoping by token, 400s naming the
/// parameter, and every response checked against the OpenAPI document.
@Suite("Market reads")
struct MarketReadsTests {
    static let competition = "/v1/gigs/{gigId}/competition"
    static let skillWeeks = "/v1/competition/skill-weeks"
    static let priceWeeks = "/v1/skills/{skill}/price-weeks"
    static let rateGuidance = "/v1/skills/{skill}/rate-guidance"
    static let trends = "/v1/price-trends"
    static let wars = "/v1/price-wars"

    @Test(
        "competition, skill weeks, price weeks, trends, rate guidance and price wars: every route, its errors and 304, conforming to the document"
    )
    func everyRoute() async throws {
        try await ServerHarness.withServer("server_market_reads") { client in
            var conformance = ResponseConformance()
            let c = UUID()
            let owner = "client:\(c.wire)"
            #expect(try await client.command(Commands.registerClient(c), as: owner).status == .created)
            let posted = try await client.command(Commands.postGig(client: c), as: owner)
            let gig = try #require(posted.json?["ids"]?["gigId"]?.stringValue)
            var bids: [String] = []
            var freelancers: [UUID] = []
            for index in 0..<6 {
                let f = UUID()
                freelancers.append(f)
                #expect(
                    try await client.command(Commands.registerFreelancer(f), as: "freelancer:\(f.wire)").status
                        == .created)
                guard index < 5 else { continue }
                let bid = try await client.command(
                    Commands.placeBid(gig: gig, amount: 150_000 + index * 10_000), as: "freelancer:\(f.wire)")
                #expect(bid.status == .created, "\(bid.text)")
                bids.append(try #require(bid.json?["ids"]?["bidId"]?.stringValue))
            }
            let accepted = try await client.command(
                ["command": "AcceptBid", "gigId": .string(gig), "bidId": .string(bids[0])], as: owner)
            #expect(accepted.status == .created, "\(accepted.text)")
            guard case .number(let raw)? = accepted.json?["position"] else {
                Issue.record("no position in \(accepted.text)")
                return
            }
            let position = Int64(raw)
            let bidder = "freelancer:\(freelancers[1].wire)"
            let outsider = "freelancer:\(freelancers[5].wire)"

            // Before the projectors run, a read that will not wait: 503 with the checkpoint reached.
            let early = try await client.send(
                .get, "/v1/gigs/\(gig)/competition?minPosition=\(position)&waitMs=0", as: owner)
            #expect(early.status == .serviceUnavailable)
            #expect(early.code == "NOT_YET_PROJECTED")
            conformance.check(early, "GET", Self.competition)
            for (uri, path) in [
                ("/v1/competition/skill-weeks", Self.skillWeeks), ("/v1/skills/nlp/price-weeks", Self.priceWeeks),
                ("/v1/skills/nlp/rate-guidance", Self.rateGuidance), ("/v1/price-trends", Self.trends),
                ("/v1/price-wars", Self.wars),
            ] {
                let response = try await client.send(.get, "\(uri)?minPosition=\(position)&waitMs=0", as: bidder)
                #expect(response.status == .serviceUnavailable, "\(uri): \(response.text)")
                conformance.check(response, "GET", path)
            }

            // Read your writes: every read waits for its own projectors.
            let whole = try await client.withProjectors {
                try await client.readWaiting("/v1/gigs/\(gig)/competition", minPosition: position, as: owner)
            }
            #expect(whole.status == .ok, "\(whole.text)")
            conformance.check(whole, "GET", Self.competition)
            let checkpoint = try #require(whole.headers[.init("GigLedger-Checkpoint")!].flatMap { Int64($0) })
            #expect(checkpoint >= position)
            #expect(whole.json?["data"]?["bidsTotal"] == .number(5))
            #expect(whole.json?["data"]?["status"]?.stringValue == "awarded")
            #expect(whole.json?["data"]?["medianBidMinor"] == .number(170_000))
            #expect(whole.json?["data"]?["minBidMinor"] == .number(150_000))
            guard case .array(let checkpoints)? = whole.json?["checkpoints"] else {
                Issue.record("no checkpoints in \(whole.text)")
                return
            }
            #expect(checkpoints.first?["projection"]?.stringValue == "competition_gigs")
            #expect(checkpoints.first?["position"] == .number(Double(checkpoint)))

            // 304 for the same ETag.
            let etag = try #require(whole.headers[.eTag])
            let same = try await client.send(
                .get, "/v1/gigs/\(gig)/competition", as: owner, headers: [.ifNoneMatch: etag])
            #expect(same.status == .notModified)
            conformance.check(same, "GET", Self.competition)

            // Scoping: a bidder or any other freelancer sees the counts, never the amounts (explicit
            // null); a service needs the reads scope; no token is 401.
            for reader in [bidder, outsider, "client:\(UUID().wire)"] {
                let partial = try await client.send(.get, "/v1/gigs/\(gig)/competition", as: reader)
                #expect(partial.status == .ok, "\(reader): \(partial.text)")
                conformance.check(partial, "GET", Self.competition)
                #expect(partial.json?["data"]?["bidsTotal"] == .number(5))
                for field in ["minBidMinor", "medianBidMinor", "maxBidMinor", "medianToBudgetMax"] {
                    #expect(partial.json?["data"]?[field] == .null, "\(reader) sees \(field)")
                }
                #expect(partial.text.contains("\"medianBidMinor\":null"))
            }
            let service = try await client.send(
                .get, "/v1/gigs/\(gig)/competition", as: "service:bi", scopes: [Principal.Scope.reads])
            #expect(service.json?["data"]?["medianBidMinor"] == .number(170_000))
            let unscoped = try await client.send(.get, "/v1/gigs/\(gig)/competition", as: "service:bi")
            #expect(unscoped.status == .forbidden)
            conformance.check(unscoped, "GET", Self.competition)
            let anonymous = try await client.send(.get, "/v1/gigs/\(gig)/competition")
            #expect(anonymous.status == .unauthorized)
            conformance.check(anonymous, "GET", Self.competition)
            let missing = try await client.send(.get, "/v1/gigs/\(UUID().wire)/competition", as: "admin:ops")
            #expect(missing.status == .notFound)
            conformance.check(missing, "GET", Self.competition)
            let malformed = try await client.send(.get, "/v1/gigs/nope/competition", as: owner)
            #expect(malformed.status == .badRequest)
            #expect(malformed.string("field") == "gigId")
            conformance.check(malformed, "GET", Self.competition)

            // Competition per skill and week: the gig's two skills, one page each.
            let nlpWeek = try await client.send(
                .get, "/v1/competition/skill-weeks?skill=nlp&minPosition=\(position)", as: bidder)
            #expect(nlpWeek.status == .ok, "\(nlpWeek.text)")
            conformance.check(nlpWeek, "GET", Self.skillWeeks)
            #expect(nlpWeek.json?["data"]?[0]?["skill"]?.stringValue == "nlp")
            #expect(nlpWeek.json?["data"]?[0]?["gigsPosted"] == .number(1))
            #expect(nlpWeek.json?["data"]?[0]?["contractsStarted"] == .number(1))
            var skills: [String] = []
            var cursor: String?
            repeat {
                let after = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await client.send(.get, "/v1/competition/skill-weeks?limit=1\(after)", as: owner)
                #expect(page.status == .ok, "\(page.text)")
                conformance.check(page, "GET", Self.skillWeeks)
                guard case .array(let items)? = page.json?["data"] else { break }
                #expect(items.count <= 1)
                skills += items.compactMap { $0["skill"]?.stringValue }
                cursor = page.json?["nextCursor"]?.stringValue
            } while cursor != nil && skills.count < 10
            #expect(skills.sorted() == ["nlp", "python"])

            // Prices: the budget, bid and clearing series of nlp in EUR; its trend and guidance.
            let weeks = try await client.send(
                .get, "/v1/skills/nlp/price-weeks?currency=EUR&minPosition=\(position)", as: outsider)
            #expect(weeks.status == .ok, "\(weeks.text)")
            conformance.check(weeks, "GET", Self.priceWeeks)
            guard case .array(let series)? = weeks.json?["data"] else {
                Issue.record("no data in \(weeks.text)")
                return
            }
            #expect(Set(series.compactMap { $0["series"]?.stringValue }) == ["budget", "bid", "clearing"])
            let bidWeek = series.first { $0["series"]?.stringValue == "bid" }
            #expect(bidWeek?["n"] == .number(5))
            let guidance = try await client.send(.get, "/v1/skills/nlp/rate-guidance", as: owner)
            #expect(guidance.status == .ok, "\(guidance.text)")
            conformance.check(guidance, "GET", Self.rateGuidance)
            #expect(guidance.json?["data"]?[0]?["currency"]?.stringValue == "EUR")
            #expect(guidance.json?["data"]?[0]?["medianMinor"] == .number(150_000))
            let trend = try await client.send(.get, "/v1/price-trends?skill=nlp&currency=EUR", as: bidder)
            #expect(trend.status == .ok, "\(trend.text)")
            conformance.check(trend, "GET", Self.trends)
            #expect(trend.json?["data"]?[0]?["skill"]?.stringValue == "nlp")
            #expect(trend.json?["data"]?[0]?["priceWar"] == .bool(false))
            let wars = try await client.send(.get, "/v1/price-wars", as: "service:bi", scopes: [Principal.Scope.reads])
            #expect(wars.status == .ok, "\(wars.text)")
            conformance.check(wars, "GET", Self.wars)
            #expect(wars.json?["data"] == .array([]))
            #expect(wars.json?["nextCursor"] == .null)
            let warsAgain = try await client.send(
                .get, "/v1/price-wars", as: owner, headers: [.ifNoneMatch: wars.headers[.eTag] ?? ""])
            #expect(warsAgain.status == .notModified)
            conformance.check(warsAgain, "GET", Self.wars)

            // Bad parameters: 400 naming each; services without reads 403; no token 401.
            let refusals: [(String, String, String)] = [
                ("/v1/competition/skill-weeks?weeks=0", Self.skillWeeks, "weeks"),
                ("/v1/competition/skill-weeks?skill=basket-weaving", Self.skillWeeks, "skill"),
                ("/v1/competition/skill-weeks?cursor=bm9wZQ", Self.skillWeeks, "cursor"),
                ("/v1/skills/basket-weaving/price-weeks", Self.priceWeeks, "skill"),
                ("/v1/skills/nlp/price-weeks?currency=eur", Self.priceWeeks, "currency"),
                ("/v1/skills/nlp/price-weeks?limit=1001", Self.priceWeeks, "limit"),
                ("/v1/skills/nlp/rate-guidance?currency=XXX", Self.rateGuidance, "currency"),
                ("/v1/price-trends?limit=0", Self.trends, "limit"),
                ("/v1/price-trends?cursor=%21", Self.trends, "cursor"),
                // Hand-made cursors of the right shape but the wrong kinds of parts.
                ("/v1/competition/skill-weeks?cursor=WyJ4IiwieSIsInoiXQ", Self.skillWeeks, "cursor"),
                ("/v1/skills/nlp/price-weeks?cursor=WyJFVVIiLCJ4IiwiYmlkIl0", Self.priceWeeks, "cursor"),
                ("/v1/price-wars?cursor=WyJhYmMiLCJhIiwiYiJd", Self.wars, "cursor"),
                ("/v1/price-wars?minPosition=-1", Self.wars, "minPosition"),
                ("/v1/price-wars?waitMs=soon&minPosition=1", Self.wars, "waitMs"),
            ]
            for (uri, path, field) in refusals {
                let refused = try await client.send(.get, uri, as: owner)
                #expect(refused.status == .badRequest, "\(uri): \(refused.text)")
                #expect(refused.string("field") == field, "\(uri): \(refused.text)")
                conformance.check(refused, "GET", path)
            }
            for (uri, path) in [
                ("/v1/competition/skill-weeks", Self.skillWeeks), ("/v1/skills/nlp/price-weeks", Self.priceWeeks),
                ("/v1/skills/nlp/rate-guidance", Self.rateGuidance), ("/v1/price-trends", Self.trends),
                ("/v1/price-wars", Self.wars),
            ] {
                let forbidden = try await client.send(.get, uri, as: "service:bi", scopes: [Principal.Scope.events])
                #expect(forbidden.status == .forbidden, "\(uri)")
                conformance.check(forbidden, "GET", path)
                let anonymous = try await client.send(.get, uri)
                #expect(anonymous.status == .unauthorized, "\(uri)")
                conformance.check(anonymous, "GET", path)
                let fine = try await client.send(.get, uri, as: "admin:ops")
                #expect(fine.status == .ok, "\(uri): \(fine.text)")
                conformance.check(fine, "GET", path)
            }

            for path in [Self.competition, Self.skillWeeks, Self.priceWeeks, Self.rateGuidance, Self.trends, Self.wars]
            {
                for status in ["200", "400", "401", "403", "503"] {
                    #expect(conformance.checked.contains("GET \(path) \(status)"), "\(path) never answered \(status)")
                }
            }
            #expect(conformance.checked.contains("GET \(Self.competition) 304"))
            #expect(conformance.checked.contains("GET \(Self.competition) 404"))
            #expect(conformance.checked.contains("GET \(Self.wars) 304"))
        }
    }
}

extension JSONValue {
    /// The `index`th element of an array (nil otherwise).
    fileprivate subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
