import EventStore
import Foundation
import GigLedger
import HummingbirdTesting
import Projections
import Server
import Testing

/// The committed OpenAPI document and the server are the same thing, checked both ways:
/// every documented operation is routed and every route documented; every command the
/// server parses has its schema and every schema a command; each schema's required fields are
/// exactly those the server demands; and every body the server sends here validates against
/// the document's schema for that route, status and content type.
@Suite("OpenAPI conformance")
struct OpenAPIConformanceTests {
    static var document: JSONValue { ResponseConformance.document }

    static var operations: Set<String> {
        guard case .object(let paths)? = document["paths"] else { return [] }
        var result: Set<String> = []
        for (path, item) in paths {
            guard case .object(let methods) = item else { continue }
            for method in methods.keys { result.insert("\(method.uppercased()) \(path)") }
        }
        return result
    }

    @Test("every documented operation is routed, and every route is documented")
    func routesBothWays() async throws {
        try await ServerHarness.withServer("server_openapi_routes") { client in
            let routed = Set(client.parts.routes)
            #expect(
                Self.operations.subtracting(routed).isEmpty,
                "documented, not routed: \(Self.operations.subtracting(routed))")
            #expect(
                routed.subtracting(Self.operations).isEmpty,
                "routed, not documented: \(routed.subtracting(Self.operations))")
            let served = try await client.send(.get, "/openapi.json")
            #expect(served.status == .ok)
            #expect(Array(served.body.readableBytesView) == OpenAPIDocument.data)
        }
    }

    @Test("one schema per command, each requiring exactly the fields the server demands")
    func commandSchemasBothWays() async throws {
        let validator = SchemaValidator(document: Self.document)
        guard case .array(let choices)? = Self.document["components"]?["schemas"]?["Command"]?["oneOf"] else {
            Issue.record("no Command schema")
            return
        }
        let names = choices.compactMap { $0["$ref"]?.stringValue?.split(separator: "/").last.map(String.init) }
        #expect(Set(names) == Set(CommandInput.commandNames))
        #expect(names.count == CommandInput.commandNames.count)
        try await ServerHarness.withServer("server_openapi_commands") { client in
            for name in names {
                let schema = validator.resolve("#/components/schemas/\(name)")
                guard case .array(let requiredList)? = schema["required"],
                    case .object(let properties)? = schema["properties"]
                else {
                    Issue.record("\(name) has no required/properties")
                    continue
                }
                let required = requiredList.compactMap(\.stringValue).filter { $0 != "command" }
                var minimal: [String: JSONValue] = ["command": .string(name)]
                for field in required { minimal[field] = Self.example(field, properties[field] ?? .null, validator) }
                #expect(validator.errors(.object(minimal), schema).isEmpty, "\(name) example invalid")
                // Only the documented required fields: the server does not say any is missing.
                let accepted = try await client.command(minimal, as: "admin:ops")
                #expect(
                    !(accepted.status == .badRequest && (accepted.string("detail") ?? "").contains("is missing")),
                    "\(name) with its required fields: \(accepted.text)")
                // Without any one of them: 400 naming it.
                for field in required {
                    var without = minimal
                    without[field] = nil
                    let refused = try await client.command(without, as: "admin:ops")
                    #expect(refused.status == .badRequest, "\(name) without \(field): \(refused.status)")
                    #expect(refused.string("field") == field, "\(name) without \(field): \(refused.text)")
                }
            }
        }
    }

    @Test("every body the server sends validates against the document")
    func responsesMatchTheDocument() async throws {
        try await ServerHarness.withServer("server_openapi_responses") { client in
            var conformance = ResponseConformance()
            func check(_ response: TestResponse, _ method: String, _ path: String) {
                conformance.check(response, method, path)
            }
            let c = UUID()
            let f = UUID()
            let owner = "client:\(c.wire)"
            let me = "freelancer:\(f.wire)"
            let commands = "/v1/commands"
            check(try await client.command(Commands.registerClient(c), as: owner), "POST", commands)
            check(try await client.command(Commands.registerFreelancer(f), as: me), "POST", commands)
            let key = UUID()
            let posted = try await client.command(Commands.postGig(client: c), as: owner, key: key)
            check(posted, "POST", commands)
            check(try await client.command(Commands.postGig(client: c), as: owner, key: key), "POST", commands)
            check(try await client.command(["command": "PostGig"], as: owner), "POST", commands)
            check(try await client.send(.post, commands, json: .object(Commands.registerClient(c))), "POST", commands)
            check(try await client.command(Commands.placeBid(gig: UUID().wire), as: me), "POST", commands)
            var impersonating = Commands.registerClient(c)
            impersonating["actor"] = .string("client:\(UUID().wire)")
            check(try await client.command(impersonating, as: owner), "POST", commands)
            check(
                try await client.send(.post, commands, as: me, body: "x", headers: [.contentType: "text/plain"]),
                "POST", commands)
            var huge = Commands.registerClient(c)
            huge["name"] = .string(String(repeating: "y", count: 65 * 1024))
            check(try await client.command(huge, as: owner), "POST", commands)
            let gig = try #require(posted.json?["ids"]?["gigId"]?.stringValue)
            check(
                try await client.command(["command": "CancelGig", "gigId": .string(gig)], as: owner), "POST", commands)
            check(try await client.command(Commands.placeBid(gig: gig), as: me), "POST", commands)

            let candidates = "/v1/gigs/{gigId}/candidates"
            check(
                try await client.send(.get, "/v1/gigs/\(gig)/candidates?minPosition=1&waitMs=0", as: owner), "GET",
                candidates)
            guard case .number(let position)? = posted.json?["position"] else {
                Issue.record("no position")
                return
            }
            let read = try await client.withProjectors {
                try await client.readWaiting("/v1/gigs/\(gig)/candidates", minPosition: Int64(position), as: owner)
            }
            check(read, "GET", candidates)
            check(
                try await client.send(
                    .get, "/v1/gigs/\(gig)/candidates", as: owner, headers: [.ifNoneMatch: read.headers[.eTag] ?? ""]),
                "GET", candidates)
            check(try await client.send(.get, "/v1/gigs/\(gig)/candidates?limit=0", as: owner), "GET", candidates)
            check(try await client.send(.get, "/v1/gigs/\(gig)/candidates", as: me), "GET", candidates)
            check(try await client.send(.get, "/v1/gigs/\(UUID().wire)/candidates", as: owner), "GET", candidates)
            check(try await client.send(.get, "/v1/gigs/\(gig)/candidates"), "GET", candidates)
            check(
                try await client.send(.get, "/v1/freelancers/\(f.wire)/feed", as: me), "GET",
                "/v1/freelancers/{freelancerId}/feed")
            check(
                try await client.send(.get, "/v1/gigs/\(gig)/explain/\(f.wire)", as: me), "GET",
                "/v1/gigs/{gigId}/explain/{freelancerId}")
            check(
                try await client.send(.get, "/v1/gigs/\(gig)/explain/\(UUID().wire)", as: "admin:ops"), "GET",
                "/v1/gigs/{gigId}/explain/{freelancerId}")
            check(
                try await client.send(.get, "/v1/projections/status", as: "admin:ops"), "GET", "/v1/projections/status")
            let events = "/v1/events"
            let tail = ("service:tail", Set([Principal.Scope.events]))
            check(try await client.send(.get, events, as: tail.0, scopes: tail.1), "GET", events)
            check(
                try await client.send(.get, "\(events)?format=ndjson&limit=2&type=GigPosted", as: "admin:ops"), "GET",
                events)
            check(try await client.send(.get, "\(events)?limit=0", as: tail.0, scopes: tail.1), "GET", events)
            check(try await client.send(.get, events), "GET", events)
            check(try await client.send(.get, events, as: owner), "GET", events)
            check(try await client.send(.get, "/health/live"), "GET", "/health/live")
            check(try await client.send(.get, "/health/ready"), "GET", "/health/ready")
            check(try await client.send(.get, "/metrics"), "GET", "/metrics")
            check(try await client.send(.get, "/openapi.json"), "GET", "/openapi.json")
            for status in ["200", "201", "400", "401", "403", "404", "413", "415", "422"] {
                #expect(conformance.checked.contains("POST \(commands) \(status)"), "no command answered \(status)")
            }
            for status in ["200", "400", "401", "403"] {
                #expect(conformance.checked.contains("GET \(events) \(status)"), "no events read answered \(status)")
            }
            for status in ["200", "304", "400", "401", "403", "404", "503"] {
                #expect(
                    conformance.checked.contains("GET \(candidates) \(status)"), "no candidates read answered \(status)"
                )
            }
        }
    }

    /// A value the schema accepts and the server parses, for a required field.
    static func example(_ field: String, _ schema: JSONValue, _ validator: SchemaValidator) -> JSONValue {
        if case .string(let reference)? = schema["$ref"] {
            if reference.hasSuffix("/Money") { return Commands.money(10_000) }
            return example(field, validator.resolve(reference), validator)
        }
        if case .array(let choices)? = schema["enum"], let first = choices.first { return first }
        switch schema["type"]?.stringValue {
        case "integer": return 1
        case "boolean": return true
        case "array":
            if schema["items"]?["$ref"]?.stringValue?.hasSuffix("/SkillClaim") == true {
                return [["skill": "nlp", "level": 2]]
            }
            return ["nlp"]
        case "string":
            if schema["format"]?.stringValue == "uuid" { return .string(UUID().wire) }
            if schema["format"]?.stringValue == "date-time" {
                return .string(Commands.iso(Date().addingTimeInterval(86_400)))
            }
            return field == "country" ? "DE" : "text"
        default: return .null
        }
    }
}
