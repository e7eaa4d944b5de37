import EventStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Marketplace
import PQ
import Projections
import Server
import TestSupport

/// A live server on loopback over a database of the suite's own, and a client that speaks to
/// it with tokens.
struct ServerHarness {
    /// Other suites' transactions hold the gap-safe horizon back while the whole suite runs, so
    /// reads may wait long for the projectors (``Client/readWaiting(_:minPosition:as:)`` waits up
    /// to 90 s, in waits shorter than the live test client's own 20-second timeout).
    static var testLimits: ServerConfiguration.Limits {
        var limits = ServerConfiguration.Limits()
        limits.readWaitMax = .seconds(90)
        return limits
    }

    static let key = TokenKey(kid: "test", material: .hs256(secret: Array(repeating: 7, count: 32)))

    /// Runs `body` against a live server (a real socket) on the database of `suite`.
    static func withServer<Value: Sendable>(
        _ suite: String, database: ConnectionConfig? = nil, limits: ServerConfiguration.Limits = Self.testLimits,
        keys: [TokenKey] = [key], setup: TestingSetup = .live, heartbeat: Duration? = nil, commandAttempts: Int = 12,
        _ body: @Sendable (Client) async throws -> Value
    ) async throws -> Value {
        let config: ConnectionConfig
        if let database {
            config = database
        } else {
            config = try await TestDatabase.pool(for: suite, maxConnections: 2).config
        }
        var logger = Logger(label: "gigledger.server.test")
        logger.logLevel = .warning
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, database: config, poolSize: 6, tokenKeys: keys, limits: limits, logger: logger)
        configuration.commandAttempts = commandAttempts
        if let heartbeat { configuration.events.heartbeat = heartbeat }
        let built = try await buildApplication(configuration: configuration)
        let parts = built.parts
        return try await built.application.test(setup) { client in
            try await body(Client(http: client, parts: parts))
        }
    }

    struct Client: Sendable {
        let http: any TestClientProtocol
        let parts: ServerParts

        func token(_ subject: String, scopes: Set<String> = [], ttl: Duration = .seconds(600)) async throws -> String {
            try await parts.authority.issue(for: try Principal(subject: subject, scopes: scopes), ttl: ttl)
        }

        /// Sends a request; `as` is the token's subject (nil: no token).
        func send(
            _ method: HTTPRequest.Method, _ uri: String, as subject: String? = nil, scopes: Set<String> = [],
            token: String? = nil, json: JSONValue? = nil, body: String? = nil, headers: HTTPFields = [:]
        ) async throws -> TestResponse {
            var headers = headers
            if let token {
                headers[.authorization] = "Bearer \(token)"
            } else if let subject {
                headers[.authorization] = "Bearer \(try await self.token(subject, scopes: scopes))"
            }
            var buffer: ByteBuffer?
            if let json {
                buffer = ByteBuffer(bytes: try JSONEncoder().encode(json))
                if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            } else if let body {
                buffer = ByteBuffer(string: body)
            }
            return try await http.execute(uri: uri, method: method, headers: headers, body: buffer)
        }

        /// POST /v1/commands.
        func command(
            _ fields: [String: JSONValue], as subject: String, scopes: Set<String> = [], key: UUID? = nil
        ) async throws -> TestResponse {
            var headers: HTTPFields = [:]
            if let key { headers[.init("Idempotency-Key")!] = key.uuidString }
            return try await send(
                .post, "/v1/commands", as: subject, scopes: scopes, json: .object(fields), headers: headers)
        }

        /// Runs `body` while the shipped projectors follow the log (as `gigctl projections run
        /// --follow` would), so reads with `minPosition` see the commands sent before.
        /// A read with `minPosition`: each request waits at most 15 s on the server (the live
        /// test client gives up on a request after 20), and a 503 NOT_YET_PROJECTED is asked
        /// again until 90 s have passed.
        func readWaiting(_ uri: String, minPosition: Int64, as subject: String) async throws -> TestResponse {
            let deadline = ContinuousClock.now.advanced(by: .seconds(90))
            let separator = uri.contains("?") ? "&" : "?"
            while true {
                let response = try await send(
                    .get, "\(uri)\(separator)minPosition=\(minPosition)&waitMs=15000", as: subject)
                guard response.status == .serviceUnavailable, response.code == "NOT_YET_PROJECTED",
                    ContinuousClock.now < deadline
                else { return response }
            }
        }

        func withProjectors<Value: Sendable>(_ body: @Sendable () async throws -> Value) async throws -> Value {
            let engine = ProjectionEngine(store: parts.store, projectors: ShippedProjectors.all, owner: "server-tests")
            return try await withThrowingTaskGroup(of: Value?.self) { group in
                group.addTask {
                    try await engine.follow(fallbackPoll: .milliseconds(200))
                    return nil
                }
                defer { group.cancelAll() }
                let value = try await body()
                return value
            }
        }

        /// The log's head position (to prove a refusal appended nothing).
        func head() async throws -> Int64 { try await parts.store.status().eventCount }
    }
}

extension TestResponse {
    var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView)) }
    var text: String { String(buffer: body) }
    /// The problem's `code`, or the empty string.
    var code: String {
        if case .string(let code)? = json?["code"] { return code }
        return ""
    }
    func string(_ key: String) -> String? {
        if case .string(let value)? = json?[key] { return value }
        return nil
    }
}

/// Ids as the wire writes them.
extension UUID {
    var wire: String { uuidString.lowercased() }
}

/// Command JSON for the tests, the same the CLI's `submit` reads.
enum Commands {
    static func money(_ minor: Int, _ currency: String = "EUR") -> JSONValue {
        ["currency": .string(currency), "minorUnits": .number(Double(minor))]
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    static func registerClient(_ id: UUID) -> [String: JSONValue] {
        [
            "command": "RegisterClient", "clientId": .string(id.wire), "name": "Acme", "country": "DE",
            "paymentVerified": true,
        ]
    }

    static func registerFreelancer(_ id: UUID, skills: [(String, Int)] = [("nlp", 3), ("python", 2)]) -> [String:
        JSONValue]
    {
        [
            "command": "RegisterFreelancer", "freelancerId": .string(id.wire), "name": "Ada",
            "skills": .array(skills.map { ["skill": .string($0.0), "level": .number(Double($0.1))] }),
            "hourlyRate": money(9_000), "hoursPerWeek": 30,
        ]
    }

    static func postGig(client: UUID, closes: Date = Date().addingTimeInterval(7 * 86_400)) -> [String: JSONValue] {
        [
            "command": "PostGig", "clientId": .string(client.wire), "title": "Fine-tune an NLP classifier",
            "skills": ["nlp", "python"], "budgetMin": money(100_000), "budgetMax": money(400_000),
            "biddingClosesAt": .string(iso(closes)),
        ]
    }

    static func placeBid(gig: String, amount: Int = 200_000) -> [String: JSONValue] {
        ["command": "PlaceBid", "gigId": .string(gig), "amount": money(amount), "estimatedDays": 10]
    }
}
