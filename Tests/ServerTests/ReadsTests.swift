import EventStore
import Foundation
import HummingbirdTesting
import Projections
import Server
import TestSupport
import Testing

@Suite("Reads")
struct ReadsTests {
    @Test(
        "candidates and feed wait for minPosition, say their checkpoint, answer 304 to a matching If-None-Match, and are scoped by token"
    )
    func readYourWrites() async throws {
        try await ServerHarness.withServer("server_reads_ryw") { client in
            let c = UUID()
            let f = UUID()
            let owner = "client:\(c.wire)"
            let me = "freelancer:\(f.wire)"
            #expect(try await client.command(Commands.registerClient(c), as: owner).status == .created)
            #expect(try await client.command(Commands.registerFreelancer(f), as: me).status == .created)
            let posted = try await client.command(Commands.postGig(client: c), as: owner)
            let gig = try #require(posted.json?["ids"]?["gigId"]?.stringValue)
            guard case .number(let raw)? = posted.json?["position"] else {
                Issue.record("no position")
                return
            }
            let position = Int64(raw)

            // Not projected yet and not willing to wait: 503 with the checkpoint reached.
            let early = try await client.send(
                .get, "/v1/gigs/\(gig)/candidates?minPosition=\(position)&waitMs=0", as: owner)
            #expect(early.status == .serviceUnavailable)
            #expect(early.code == "NOT_YET_PROJECTED")
            #expect(early.headers[.retryAfter] != nil)
            if case .number(let reached)? = early.json?["checkpoint"] {
                #expect(Int64(reached) < position)
            } else {
                Issue.record("no checkpoint in \(early.text)")
            }

            // The projectors run while the read waits; their NOTIFY wakes it.
            let response = try await client.withProjectors {
                try await client.readWaiting("/v1/gigs/\(gig)/candidates", minPosition: position, as: owner)
            }
            #expect(response.status == .ok, "\(response.text)")
            let checkpoint = try #require(response.headers[.init("GigLedger-Checkpoint")!].flatMap { Int64($0) })
            #expect(checkpoint >= position)
            guard case .array(let items)? = response.json?["data"] else {
                Issue.record("no items in \(response.text)")
                return
            }
            #expect(items.contains { $0["freelancerId"]?.stringValue == f.wire })
            let etag = try #require(response.headers[.eTag])
            let again = try await client.send(
                .get, "/v1/gigs/\(gig)/candidates", as: owner, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)

            let feed = try await client.send(.get, "/v1/freelancers/\(f.wire)/feed?minPosition=\(position)", as: me)
            #expect(feed.status == .ok)
            guard case .array(let gigs)? = feed.json?["data"] else {
                Issue.record("no items in \(feed.text)")
                return
            }
            #expect(gigs.contains { $0["gigId"]?.stringValue == gig })
            let explained = try await client.send(.get, "/v1/gigs/\(gig)/explain/\(f.wire)", as: me)
            #expect(explained.status == .ok)
            #expect(explained.json?["data"]?["freelancerId"]?.stringValue == f.wire)

            // Scoped by token.
            #expect(try await client.send(.get, "/v1/gigs/\(gig)/candidates", as: me).status == .forbidden)
            #expect(
                try await client.send(.get, "/v1/gigs/\(gig)/candidates", as: "client:\(UUID().wire)").status
                    == .forbidden)
            #expect(
                try await client.send(.get, "/v1/freelancers/\(f.wire)/feed", as: "freelancer:\(UUID().wire)").status
                    == .forbidden)
            #expect(
                try await client.send(.get, "/v1/freelancers/\(f.wire)/feed", as: "service:bi").status == .forbidden)
            #expect(
                try await client.send(
                    .get, "/v1/freelancers/\(f.wire)/feed", as: "service:bi", scopes: [Principal.Scope.reads]
                ).status == .ok)
            #expect(try await client.send(.get, "/v1/gigs/\(UUID().wire)/candidates", as: owner).status == .notFound)
            #expect(try await client.send(.get, "/v1/gigs/not-a-uuid/candidates", as: owner).status == .badRequest)
            #expect(
                try await client.send(.get, "/v1/gigs/\(gig)/candidates?minPosition=999999999", as: owner).status
                    == .badRequest)

            let status = try await client.send(.get, "/v1/projections/status", as: "admin:ops")
            #expect(status.status == .ok)
            #expect(try await client.send(.get, "/v1/projections/status", as: owner).status == .forbidden)

            // The fairness audit: the one gig of the window, its freelancer's cohorts, for admins
            // and readers only; bad parameters are 400.
            let audit = try await client.send(
                .get, "/v1/audit/matching?weeks=2&k=5&minPosition=\(position)", as: "service:bi",
                scopes: [Principal.Scope.reads])
            #expect(audit.status == .ok, "\(audit.text)")
            #expect(audit.json?["data"]?["gigs"] == .number(1) && audit.json?["data"]?["k"] == .number(5))
            guard case .array(let cohorts)? = audit.json?["data"]?["cohorts"] else {
                Issue.record("no cohorts in \(audit.text)")
                return
            }
            #expect(cohorts.contains { $0["dimension"]?.stringValue == "country" })
            #expect(try await client.send(.get, "/v1/audit/matching", as: "admin:ops").status == .ok)
            #expect(try await client.send(.get, "/v1/audit/matching", as: owner).status == .forbidden)
            #expect(try await client.send(.get, "/v1/audit/matching", as: me).status == .forbidden)
            let bad = try await client.send(.get, "/v1/audit/matching?weeks=0", as: "admin:ops")
            #expect(bad.status == .badRequest && bad.text.contains("weeks"))
            #expect(try await client.send(.get, "/v1/audit/matching?k=101", as: "admin:ops").status == .badRequest)
        }
    }

    @Test("pages of candidates follow nextCursor without repeats")
    func paging() async throws {
        try await ServerHarness.withServer("server_reads_paging") { client in
            let c = UUID()
            #expect(try await client.command(Commands.registerClient(c), as: "client:\(c.wire)").status == .created)
            for _ in 0..<5 {
                let f = UUID()
                #expect(
                    try await client.command(Commands.registerFreelancer(f), as: "freelancer:\(f.wire)").status
                        == .created)
            }
            let posted = try await client.command(Commands.postGig(client: c), as: "client:\(c.wire)")
            let gig = try #require(posted.json?["ids"]?["gigId"]?.stringValue)
            guard case .number(let position)? = posted.json?["position"] else {
                Issue.record("no position")
                return
            }
            let first = try await client.withProjectors {
                try await client.readWaiting(
                    "/v1/gigs/\(gig)/candidates", minPosition: Int64(position), as: "client:\(c.wire)")
            }
            #expect(first.status == .ok)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let query =
                    cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" }
                    ?? ""
                let page = try await client.send(
                    .get, "/v1/gigs/\(gig)/candidates?limit=2\(query)", as: "client:\(c.wire)")
                #expect(page.status == .ok, "\(page.text)")
                guard case .array(let items)? = page.json?["data"] else { break }
                #expect(items.count <= 2)
                seen += items.compactMap { $0["freelancerId"]?.stringValue }
                cursor = page.json?["nextCursor"]?.stringValue
            } while cursor != nil
            #expect(seen.count == 5)
            #expect(Set(seen).count == 5)
        }
    }
}
