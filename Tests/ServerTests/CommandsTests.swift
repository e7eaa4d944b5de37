import EventStore
import Foundation
import Hummingbird
import HummingbirdTesting
import PQ
import Server
import TestSupport
import Testing

@Suite("POST /v1/commands")
struct CommandsTests {
    @Test(
        "201 with created ids, events and positions; a repeat of the Idempotency-Key answers 200 with the first result and appends nothing"
    )
    func createdThenIdempotent() async throws {
        try await ServerHarness.withServer("server_commands_created") { client in
            let clientID = UUID()
            let registered = try await client.command(Commands.registerClient(clientID), as: "client:\(clientID.wire)")
            #expect(registered.status == .created)
            let key = UUID()
            let posted = try await client.command(
                Commands.postGig(client: clientID), as: "client:\(clientID.wire)", key: key)
            #expect(posted.status == .created)
            #expect(posted.headers[.contentType] == "application/json")
            let gig = try #require(posted.json?["ids"]?["gigId"])
            guard case .array(let events)? = posted.json?["events"],
                case .number(let position)? = posted.json?["position"]
            else {
                Issue.record("no events or position in \(posted.text)")
                return
            }
            #expect(events.count == 1)
            #expect(events.first?["type"] == "GigPosted")
            #expect(events.first?["stream"] == .string("gig-\(gig.stringValue ?? "")"))
            #expect(position > 0)
            #expect(posted.string("commandId") == key.wire)

            let head = try await client.head()
            let repeated = try await client.command(
                Commands.postGig(client: clientID), as: "client:\(clientID.wire)", key: key)
            #expect(repeated.status == .ok)
            #expect(repeated.json?["duplicate"] == true)
            #expect(repeated.json?["ids"]?["gigId"] == gig)
            #expect(repeated.json?["events"] == posted.json?["events"])
            #expect(try await client.head() == head)
        }
    }

    @Test("the request id is echoed and recorded as the events' correlation id")
    func correlation() async throws {
        try await ServerHarness.withServer("server_commands_correlation") { client in
            let clientID = UUID()
            let requestID = UUID()
            let response = try await client.send(
                .post, "/v1/commands", as: "client:\(clientID.wire)", json: .object(Commands.registerClient(clientID)),
                headers: [.init("X-Request-Id")!: requestID.uuidString])
            #expect(response.status == .created)
            #expect(response.headers[.init("X-Request-Id")!] == requestID.wire)
            let stream = try StreamName(validating: "client-\(clientID.wire)")
            let stored = try await client.parts.store.readStream(stream, from: 1, limit: 1)
            #expect(stored.first?.metadata.correlationId == requestID)
            #expect(stored.first?.metadata.actor == "client:\(clientID.wire)")
        }
    }

    @Test("400 names the field; 415 without JSON; 413 over 64 KiB; nothing appended")
    func malformed() async throws {
        try await ServerHarness.withServer("server_commands_malformed") { client in
            let freelancer = UUID()
            let subject = "freelancer:\(freelancer.wire)"
            let head = try await client.head()

            var missing = Commands.registerFreelancer(freelancer)
            missing["hourlyRate"] = nil
            let noRate = try await client.command(missing, as: subject)
            #expect(noRate.status == .badRequest)
            #expect(noRate.headers[.contentType] == "application/problem+json")
            #expect(noRate.json?["field"] == "hourlyRate")
            #expect(noRate.code == "INVALID_COMMAND")

            var wrongType = Commands.registerFreelancer(freelancer)
            wrongType["hoursPerWeek"] = "thirty"
            #expect(try await client.command(wrongType, as: subject).json?["field"] == "hoursPerWeek")

            let unknown = try await client.command(["command": "LaunchRocket"], as: subject)
            #expect(unknown.status == .badRequest)
            #expect(unknown.json?["field"] == "command")

            let notJSON = try await client.send(
                .post, "/v1/commands", as: subject, body: "{nope", headers: [.contentType: "application/json"])
            #expect(notJSON.status == .badRequest)

            let badKey = try await client.send(
                .post, "/v1/commands", as: subject, json: .object(Commands.registerFreelancer(freelancer)),
                headers: [.init("Idempotency-Key")!: "not-a-uuid"])
            #expect(badKey.status == .badRequest)
            #expect(badKey.json?["field"] == "Idempotency-Key")

            let text = try await client.send(
                .post, "/v1/commands", as: subject, body: "hello", headers: [.contentType: "text/plain"])
            #expect(text.status == .unsupportedMediaType)
            #expect(text.code == "UNSUPPORTED_MEDIA_TYPE")

            var huge = Commands.registerFreelancer(freelancer)
            huge["name"] = .string(String(repeating: "x", count: 70 * 1024))
            let tooLarge = try await client.command(huge, as: subject)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.code == "BODY_TOO_LARGE")

            #expect(try await client.head() == head)
        }
    }

    @Test("401 for a missing, forged, expired or wrong-audience token; nothing appended")
    func unauthenticated() async throws {
        try await ServerHarness.withServer("server_commands_401") { client in
            let id = UUID()
            let body = JSONValue.object(Commands.registerClient(id))
            let head = try await client.head()
            let none = try await client.send(.post, "/v1/commands", json: body)
            #expect(none.status == .unauthorized)
            #expect(none.code == "TOKEN_MISSING")
            #expect(none.headers[.wwwAuthenticate] != nil)

            let other = try await TokenAuthority(keys: [
                TokenKey(kid: "test", material: .hs256(secret: Array(repeating: 9, count: 32)))
            ])
            let forged = try await other.issue(for: Principal(subject: "client:\(id.wire)"), ttl: .seconds(60))
            #expect(try await client.send(.post, "/v1/commands", token: forged, json: body).code == "TOKEN_INVALID")

            let expired = try await client.parts.authority.issue(
                for: Principal(subject: "client:\(id.wire)"), ttl: .seconds(60), now: Date().addingTimeInterval(-3600))
            let expiredResponse = try await client.send(.post, "/v1/commands", token: expired, json: body)
            #expect(expiredResponse.status == .unauthorized)
            #expect(expiredResponse.code == "TOKEN_EXPIRED")

            let elsewhere = try await client.parts.authority.issue(
                for: Principal(subject: "client:\(id.wire)"), ttl: .seconds(60), audience: "another-service")
            #expect(
                try await client.send(.post, "/v1/commands", token: elsewhere, json: body).code
                    == "TOKEN_WRONG_AUDIENCE")

            #expect(
                try await client.send(.post, "/v1/commands", token: "not.a.jwt", json: body).status == .unauthorized)
            #expect(try await client.head() == head)
        }
    }

    @Test("403 when the body names another actor; 404 for a gig that does not exist; 422 for a rule")
    func refusals() async throws {
        try await ServerHarness.withServer("server_commands_refusals") { client in
            let clientID = UUID()
            let freelancer = UUID()
            #expect(
                try await client.command(Commands.registerClient(clientID), as: "client:\(clientID.wire)").status
                    == .created)
            #expect(
                try await client.command(Commands.registerFreelancer(freelancer), as: "freelancer:\(freelancer.wire)")
                    .status == .created)
            let head = try await client.head()

            var impersonating = Commands.placeBid(gig: UUID().wire)
            impersonating["actor"] = .string("freelancer:\(UUID().wire)")
            let mismatch = try await client.command(impersonating, as: "freelancer:\(freelancer.wire)")
            #expect(mismatch.status == .forbidden)
            #expect(mismatch.code == "ACTOR_MISMATCH")

            let noGig = try await client.command(
                Commands.placeBid(gig: UUID().wire), as: "freelancer:\(freelancer.wire)")
            #expect(noGig.status == .notFound)
            #expect(noGig.code == "GIG_NOT_FOUND")

            let posted = try await client.command(Commands.postGig(client: clientID), as: "client:\(clientID.wire)")
            let gig = try #require(posted.json?["ids"]?["gigId"]?.stringValue)
            let cancelled = try await client.command(
                ["command": "CancelGig", "gigId": .string(gig)], as: "client:\(clientID.wire)")
            #expect(cancelled.status == .created)
            let afterCancel = try await client.head()
            let late = try await client.command(Commands.placeBid(gig: gig), as: "freelancer:\(freelancer.wire)")
            #expect(late.status == .unprocessableContent)
            #expect(late.code == "GIG_NOT_OPEN")
            #expect(try await client.head() == afterCancel)
            #expect(afterCancel == head + 2)
        }
    }

    @Test("503 with Retry-After when the database cannot be reached")
    func unavailable() async throws {
        let nowhere = ConnectionConfig(
            "postgresql://gigledger@127.0.0.1:1/none?connect_timeout=2", applicationName: "test")
        try await ServerHarness.withServer("server_commands_503", database: nowhere) { client in
            let id = UUID()
            let response = try await client.command(Commands.registerClient(id), as: "client:\(id.wire)")
            #expect(response.status == .serviceUnavailable)
            #expect(response.code == "DATABASE_UNAVAILABLE")
            #expect(response.headers[.retryAfter] != nil)
        }
    }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
