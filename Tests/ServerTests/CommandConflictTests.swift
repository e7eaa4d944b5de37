import EventStore
import Foundation
import HummingbirdTesting
import Marketplace
import Server
import Testing

/// What happens when two parties want the same thing: an idempotency key reused by another
/// actor, and writers racing on one gig until the service's retries run out.
@Suite("Command conflicts")
struct CommandConflictTests {
    @Test("an Idempotency-Key is bound to its actor: another actor's repeat gets 409 COMMAND_ID_TAKEN, appends nothing")
    func keyBoundToActor() async throws {
        try await ServerHarness.withServer("server_key_actor") { client in
            let c = UUID()
            let other = UUID()
            let owner = "client:\(c.wire)"
            #expect(try await client.command(Commands.registerClient(c), as: owner).status == .created)
            #expect(
                try await client.command(Commands.registerClient(other), as: "client:\(other.wire)").status == .created)
            let key = UUID()
            let first = try await client.command(Commands.postGig(client: c), as: owner, key: key)
            #expect(first.status == .created)
            let head = try await client.head()

            // The same actor: the first result again.
            let repeated = try await client.command(Commands.postGig(client: c), as: owner, key: key)
            #expect(repeated.status == .ok)
            #expect(repeated.json?["ids"] == first.json?["ids"])

            // Another actor with the same key, whether the same command for themselves or anything
            // else: refused, and nothing of the first result shown.
            let attempts: [(String, [String: JSONValue])] = [
                ("client:\(other.wire)", Commands.postGig(client: other)),
                ("client:\(other.wire)", ["command": "CancelGig", "gigId": first.json?["ids"]?["gigId"] ?? .null]),
                ("freelancer:\(UUID().wire)", Commands.placeBid(gig: first.json?["ids"]?["gigId"]?.stringValue ?? "")),
            ]
            for (actor, command) in attempts {
                let taken = try await client.command(command, as: actor, key: key)
                #expect(taken.status == .conflict, "\(actor): \(taken.text)")
                #expect(taken.code == "COMMAND_ID_TAKEN")
                #expect(taken.headers[.contentType] == "application/problem+json")
                #expect(taken.json?["ids"] == nil)
                #expect(!taken.text.contains(first.json?["ids"]?["gigId"]?.stringValue ?? "-"))
            }
            #expect(try await client.head() == head)
        }
    }

    @Test(
        "bidders racing on one gig past the service's retry budget get 409 CONCURRENCY_CONFLICT; nothing appended; the same key succeeds later"
    )
    func conflictAfterRetries() async throws {
        // One attempt per command: any concurrent bid on the same gig conflicts.
        try await ServerHarness.withServer("server_conflict_409", setup: .ahc(.http), commandAttempts: 1) { client in
            let c = UUID()
            let owner = "client:\(c.wire)"
            #expect(try await client.command(Commands.registerClient(c), as: owner).status == .created)
            var bidders: [(UUID, String)] = []
            for _ in 0..<16 {
                let f = UUID()
                #expect(
                    try await client.command(Commands.registerFreelancer(f), as: "freelancer:\(f.wire)").status
                        == .created)
                bidders.append((f, try await client.token("freelancer:\(f.wire)")))
            }
            var conflicts: [(key: UUID, token: String, gig: String, problem: JSONValue?)] = []
            var round = 0
            while conflicts.isEmpty && round < 10 {
                round += 1
                let posted = try await client.command(Commands.postGig(client: c), as: owner)
                let gig = try #require(posted.json?["ids"]?["gigId"]?.stringValue)
                let results = try await withThrowingTaskGroup(of: (UUID, String, TestResponse).self) { group in
                    for (_, token) in bidders {
                        group.addTask {
                            let key = UUID()
                            let response = try await client.send(
                                .post, "/v1/commands", token: token, json: .object(Commands.placeBid(gig: gig)),
                                headers: [.init("Idempotency-Key")!: key.uuidString])
                            return (key, token, response)
                        }
                    }
                    var all: [(UUID, String, TestResponse)] = []
                    for try await result in group { all.append(result) }
                    return all
                }
                for (_, _, response) in results {
                    #expect(response.status == .created || response.status == .conflict, "\(response.text)")
                }
                let created = results.filter { $0.2.status == .created }.count
                let stream = try StreamName(validating: "gig-\(gig)")
                let placed = try await client.parts.store.readStream(stream).filter { $0.type == "BidPlaced" }
                #expect(placed.count == created, "only the answered bids were appended")
                conflicts += results.filter { $0.2.status == .conflict }.map {
                    (key: $0.0, token: $0.1, gig: gig, problem: $0.2.json)
                }
            }
            let conflict = try #require(conflicts.first, "no 409 in \(round) rounds of 16 concurrent bids")
            #expect(conflict.problem?["code"]?.stringValue == "CONCURRENCY_CONFLICT")
            #expect(conflict.problem?["status"] == .number(409))
            #expect(conflict.problem?["type"]?.stringValue == "urn:gigledger:problem:CONCURRENCY_CONFLICT")
            #expect(conflict.problem?["detail"]?.stringValue?.contains("same command id") == true)
            // Sent again alone with the same key, it goes through.
            let retried = try await client.send(
                .post, "/v1/commands", token: conflict.token, json: .object(Commands.placeBid(gig: conflict.gig)),
                headers: [.init("Idempotency-Key")!: conflict.key.uuidString])
            #expect(retried.status == .created, "\(retried.text)")
        }
    }
}
