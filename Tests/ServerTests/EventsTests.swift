import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PQ
import Server
import ServiceLifecycle
import TestSupport
import Testing

@testable import EventStore

/// `GET /v1/events` against a live server on loopback and a real PostgreSQL: Server-Sent Events
/// read by a bare socket client, NDJSON pages by the test client.
@Suite("The event stream", .timeLimit(.minutes(5)))
struct EventsTests {
    static let service = "service:ledger-tail"
    static let scopes: Set<String> = [Principal.Scope.events]

    /// Reads an event stream's parts in order.
    struct Reader {
        var iterator: AsyncStream<EventStreamClient.Part>.Iterator
        let client: EventStreamClient

        init(_ client: EventStreamClient) {
            self.client = client
            iterator = client.parts.makeAsyncIterator()
        }

        /// The response's status and headers.
        mutating func head() async -> (status: Int, headers: [String: String])? {
            while let part = await iterator.next() {
                if case .head(let status, let headers) = part { return (status, headers) }
            }
            return nil
        }

        /// The next `count` messages (fewer if the stream ends first; then what else came is
        /// recorded, to say why).
        mutating func messages(_ count: Int) async -> [(id: String?, data: String)] {
            var found: [(id: String?, data: String)] = []
            var other: [EventStreamClient.Part] = []
            while found.count < count, let part = await iterator.next() {
                if case .message(let id, let data) = part { found.append((id, data)) } else { other.append(part) }
            }
            if found.count < count { Issue.record("the stream ended after \(found.count) message(s): \(other)") }
            return found
        }

        /// Waits for the next comment line.
        mutating func comment() async -> String? {
            while let part = await iterator.next() {
                if case .comment(let text) = part, text != "gigledger events" { return text }
            }
            return nil
        }

        /// Waits for the stream to end; the messages that came before.
        mutating func rest() async -> Int {
            var count = 0
            while let part = await iterator.next() {
                if case .message = part { count += 1 }
            }
            return count
        }
    }

    /// Opens `/v1/events` as SSE.
    static func open(
        _ client: ServerHarness.Client, query: String = "", lastEventID: String? = nil, token: String? = nil
    ) async throws -> Reader {
        let port = try #require(client.http.port)
        var headers = ["Accept": "text/event-stream"]
        if let token {
            headers["Authorization"] = "Bearer \(token)"
        } else {
            headers["Authorization"] = "Bearer \(try await client.token(service, scopes: scopes))"
        }
        if let lastEventID { headers["Last-Event-ID"] = lastEventID }
        return Reader(try EventStreamClient(port: port, path: "/v1/events\(query)", headers: headers))
    }

    static func registerClients(_ count: Int, _ client: ServerHarness.Client) async throws -> [UUID] {
        var ids: [UUID] = []
        for _ in 0..<count {
            let id = UUID()
            let response = try await client.command(Commands.registerClient(id), as: "client:\(id.wire)")
            try #require(response.status == .created, "\(response.text)")
            ids.append(id)
        }
        return ids
    }

    static func json(_ text: String) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    static func position(_ text: String) -> Int64? {
        if case .number(let value)? = json(text)?["position"] { return Int64(value) }
        return nil
    }

    /// Every NDJSON line of every page from `after`, paging with `limit` until a page is empty.
    static func allPages(_ client: ServerHarness.Client, query: String, limit: Int) async throws -> [String] {
        var lines: [String] = []
        var after = "0-0"
        while true {
            let response = try await client.send(
                .get, "/v1/events?format=ndjson&limit=\(limit)&after=\(after)\(query)", as: service, scopes: scopes)
            try #require(response.status == .ok, "\(response.text)")
            #expect(response.headers[.contentType] == "application/x-ndjson")
            let page = response.text.split(separator: "\n").map(String.init)
            #expect(page.count <= limit)
            guard !page.isEmpty else { break }
            lines += page
            after = try #require(response.headers[HTTPField.Name("GigLedger-Next-After")!])
            #expect(after == json(page.last!)?["checkpoint"]?.stringValue)
        }
        return lines
    }

    @Test("every event is delivered once, in order, in the JSON contract; NDJSON pages hold the same")
    func everyEventOnceInOrder() async throws {
        try await ServerHarness.withServer("server_events_order") { client in
            let early = try await Self.registerClients(3, client)
            var reader = try await Self.open(client)
            let head = await reader.head()
            #expect(head?.status == 200)
            #expect(head?.headers["content-type"] == "text/event-stream")
            let late = try await Self.registerClients(4, client)
            let messages = await reader.messages(7)
            try #require(messages.count == 7)
            reader.client.close()

            let positions = messages.compactMap { Self.position($0.data) }
            #expect(positions == positions.sorted() && Set(positions).count == 7)
            let ids = messages.compactMap { Self.json($0.data)?["data"]?["clientId"]?.stringValue }
            #expect(ids == (early + late).map(\.wire))
            for message in messages {
                let event = try #require(Self.json(message.data))
                #expect(message.id == event["checkpoint"]?.stringValue)
                #expect(event["type"]?.stringValue == "ClientRegistered")
                #expect(event["category"]?.stringValue == "client")
                #expect(event["schemaVersion"] == 1)
                #expect(event["causationId"] == .null)
                let actor = try #require(event["actor"]?.stringValue)
                #expect(actor.hasPrefix("client:") && actor == actor.lowercased())
                let commandId = try #require(event["commandId"]?.stringValue)
                #expect(commandId == commandId.lowercased() && UUID(uuidString: commandId) != nil)
                let recorded = try #require(event["recordedAt"]?.stringValue)
                #expect(recorded.hasSuffix("Z") && recorded.contains("."))
            }

            // NDJSON pages (3 at a time) give the same events, byte for byte.
            let lines = try await Self.allPages(client, query: "", limit: 3)
            #expect(lines == messages.map(\.data))
        }
    }

    @Test(
        "resuming with Last-Event-ID after a disconnect in the middle of out-of-order commits skips and repeats nothing"
    )
    func resumeAcrossOutOfOrderCommits() async throws {
        try await ServerHarness.withServer("server_events_resume") { client in
            let store = client.parts.store
            func event(_ type: String) -> NewEvent { NewEvent(type: type, data: PGJSON(text: "{}")) }
            func metadata() -> EventMetadata { EventMetadata(actor: "system", commandId: UUID()) }
            func stream() throws -> StreamName { try StreamName(validating: "client-\(UUID().wire)") }

            _ = try await store.append([event("First")], to: try stream(), expecting: .noStream, metadata: metadata())
            var first = try await Self.open(client, query: "?category=client")
            let before = await first.messages(1)
            let firstID = try #require(before.first?.id)
            #expect(Self.json(before[0].data)?["type"]?.stringValue == "First")

            // A takes a transaction id, then B appends and commits, then A appends: A's event has
            // the higher position but the older transaction, so gap-safe order is A, B, and B is
            // held back while A is open. The subscriber goes away in the middle of it.
            let connectionA = try await Connection.connect(store.pool.config)
            try await connectionA.execute("BEGIN")
            _ = try await connectionA.query("SELECT pg_current_xact_id()")
            let resultB = try await store.append(
                [event("FromB")], to: try stream(), expecting: .noStream, metadata: metadata())
            let requestA = AppendRequest(
                metadata: metadata(),
                streams: [StreamAppend(stream: try stream(), expected: .noStream, events: [event("FromA")])])
            let resultA = try AppendResult(
                json: try await connectionA.query(EventStore.appendStatement(requestA)).scalar(PGJSON.self))
            #expect(resultA.positions[0] > resultB.positions[0])
            first.client.close()
            #expect(await first.rest() == 0, "an event passed the open transaction")
            try await connectionA.execute("COMMIT")
            await connectionA.close()

            // Resume after the last event received: A then B, each once.
            var second = try await Self.open(client, query: "?category=client", lastEventID: firstID)
            let resumed = await second.messages(2)
            second.client.close()
            #expect(resumed.compactMap { Self.json($0.data)?["type"]?.stringValue } == ["FromA", "FromB"])
            #expect(resumed.compactMap { Self.position($0.data) } == [resultA.positions[0], resultB.positions[0]])

            // Resume after A (the higher position): B comes next, not skipped for its lower position.
            let afterA = try #require(resumed.first?.id)
            var third = try await Self.open(client, query: "?category=client", lastEventID: afterA)
            let next = await third.messages(1)
            third.client.close()
            #expect(next.compactMap { Self.json($0.data)?["type"]?.stringValue } == ["FromB"])

            // `after` does the same for clients that cannot send headers; Last-Event-ID wins over it.
            var fourth = try await Self.open(client, query: "?category=client&after=\(firstID)", lastEventID: afterA)
            let fromHeader = await fourth.messages(1)
            fourth.client.close()
            #expect(fromHeader.compactMap { Self.json($0.data)?["type"]?.stringValue } == ["FromB"])
            let page = try await client.send(
                .get, "/v1/events?category=client&after=\(firstID)", as: Self.service, scopes: Self.scopes)
            #expect(
                page.text.split(separator: "\n").compactMap { Self.json(String($0))?["type"]?.stringValue }
                    == ["FromA", "FromB"])
        }
    }

    @Test("category and type filters, repeated or comma-separated; unknown ones and bad checkpoints are 400")
    func filters() async throws {
        try await ServerHarness.withServer("server_events_filters") { client in
            let clientID = UUID()
            let freelancerID = UUID()
            let owner = "client:\(clientID.wire)"
            #expect(try await client.command(Commands.registerClient(clientID), as: owner).status == .created)
            #expect(
                try await client.command(
                    Commands.registerFreelancer(freelancerID), as: "freelancer:\(freelancerID.wire)"
                ).status == .created)
            #expect(try await client.command(Commands.postGig(client: clientID), as: owner).status == .created)

            func types(_ query: String) async throws -> [String] {
                let response = try await client.send(
                    .get, "/v1/events?\(query)", as: Self.service, scopes: Self.scopes)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return response.text.split(separator: "\n").compactMap { Self.json(String($0))?["type"]?.stringValue }
            }
            // Other suites' open transactions may hold the gap-safe horizon back for a while.
            let all = try await eventually { () async throws -> [String]? in
                let found = try await types("")
                return found.count == 3 ? found : nil
            }
            #expect(all == ["ClientRegistered", "FreelancerRegistered", "GigPosted"])
            #expect(try await types("category=gig") == ["GigPosted"])
            #expect(try await types("category=gig,client") == ["ClientRegistered", "GigPosted"])
            #expect(try await types("category=gig&category=freelancer") == ["FreelancerRegistered", "GigPosted"])
            #expect(try await types("type=GigPosted,FreelancerRegistered") == ["FreelancerRegistered", "GigPosted"])
            #expect(try await types("category=client&type=GigPosted") == [])

            // SSE with a filter: only the gig's event.
            var reader = try await Self.open(client, query: "?type=GigPosted")
            let messages = await reader.messages(1)
            reader.client.close()
            #expect(messages.compactMap { Self.json($0.data)?["type"]?.stringValue } == ["GigPosted"])

            for (query, field) in [
                ("category=gigs", "category"), ("type=BidPlacd", "type"), ("after=12", "after"),
                ("after=1-2-3", "after"), ("limit=0", "limit"), ("limit=1001", "limit"), ("format=xml", "format"),
            ] {
                let refused = try await client.send(.get, "/v1/events?\(query)", as: Self.service, scopes: Self.scopes)
                #expect(refused.status == .badRequest, "\(query)")
                #expect(refused.string("field") == field, "\(query): \(refused.text)")
            }
            let badHeader = try await client.send(
                .get, "/v1/events", as: Self.service, scopes: Self.scopes,
                headers: [HTTPField.Name("Last-Event-ID")!: "yesterday"])
            #expect(badHeader.string("field") == "Last-Event-ID")
        }
    }

    @Test("only admins and services with the events scope may read it: 401 without a token, 403 otherwise")
    func authorization() async throws {
        try await ServerHarness.withServer("server_events_auth") { client in
            #expect(try await client.send(.get, "/v1/events").status == .unauthorized)
            let expired = try await client.token(Self.service, scopes: Self.scopes, ttl: .seconds(-10))
            #expect(try await client.send(.get, "/v1/events", token: expired).status == .unauthorized)
            for (subject, scopes) in [
                ("client:\(UUID().wire)", Set<String>()), ("freelancer:\(UUID().wire)", []),
                ("service:payments", [Principal.Scope.reads, Principal.Scope.timers]),
            ] {
                let refused = try await client.send(.get, "/v1/events", as: subject, scopes: scopes)
                #expect(refused.status == .forbidden, "\(subject)")
                #expect(refused.code == "FORBIDDEN")
            }
            #expect(try await client.send(.get, "/v1/events", as: "admin:ops").status == .ok)
            #expect(try await client.send(.get, "/v1/events", as: Self.service, scopes: Self.scopes).status == .ok)

            // The stream checks the same before it starts.
            let forbidden = try await client.token("service:payments", scopes: [Principal.Scope.reads])
            var reader = try await Self.open(client, token: forbidden)
            #expect(await reader.head()?.status == 403)
            reader.client.close()
        }
    }

    @Test(
        "heartbeats come when nothing happens; streams share one listener; a client that goes away releases its place")
    func heartbeatAndDisconnect() async throws {
        var limits = ServerHarness.testLimits
        limits.maxEventStreams = 2
        let database = try await TestDatabase.pool(for: "server_events_disconnect", maxConnections: 2)
        try await ServerHarness.withServer(
            "server_events_disconnect", database: database.config, limits: limits, heartbeat: .milliseconds(100)
        ) { client in
            func listening() async throws -> Int {
                Int(
                    try await database.query(
                        """
                        SELECT count(*) FROM pg_stat_activity
                        WHERE datname = current_database() AND query ILIKE 'LISTEN%gigledger_events%'
                        """
                    ).scalar(Int64.self))
            }
            var one = try await Self.open(client)
            #expect(await one.comment() == "heartbeat")
            var two = try await Self.open(client)
            #expect(await two.comment() == "heartbeat")
            // One listening session, the server's log broadcast, however many streams follow it
            // (waited for: the broadcast's reader may be between two sessions after a failed read).
            let oneListener = try await eventually(timeout: .seconds(30)) { () async throws -> Bool? in
                try await listening() == 1 ? true : nil
            }
            #expect(oneListener == true, "the streams share the broadcast's one listening session")
            #expect(client.parts.broadcast.followers == 2)
            // Over the cap: 503 at once.
            var three = try await Self.open(client)
            #expect(await three.head()?.status == 503)
            three.client.close()

            one.client.close()
            two.client.close()
            _ = await one.rest()
            _ = await two.rest()
            let released = try await eventually(timeout: .seconds(30)) { () async throws -> Bool? in
                let (open, idle) = await client.parts.pool.counts()
                return client.parts.broadcast.followers == 0 && open == idle ? true : nil
            }
            #expect(released == true, "a stream's place in the broadcast or pool connection outlived its client")
            #expect(try await listening() == 1, "the broadcast goes on")
            // The slots are free again.
            let reopened = try await eventually(timeout: .seconds(30)) { () async throws -> Bool? in
                var again = try await Self.open(client)
                defer { again.client.close() }
                return await again.head()?.status == 200 ? true : nil
            }
            #expect(reopened == true)
        }
    }

    @Test("a graceful shutdown ends open streams, and the server stops")
    func gracefulShutdownEndsStreams() async throws {
        let database = try await TestDatabase.pool(for: "server_events_shutdown", maxConnections: 2)
        var logger = Logger(label: "gigledger.server.test")
        logger.logLevel = .warning
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, database: database.config, poolSize: 4, tokenKeys: [ServerHarness.key],
            logger: logger)
        configuration.onListening = { port in portSink.yield(port) }
        let built = try await buildApplication(configuration: configuration)
        let group = ServiceGroup(configuration: .init(services: [built.application], logger: logger))
        let token = try await built.parts.authority.issue(
            for: Principal(subject: Self.service, scopes: Self.scopes), ttl: .seconds(60))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            var readers: [Reader] = []
            for _ in 0..<3 {
                var reader = Reader(
                    try EventStreamClient(
                        port: port, path: "/v1/events",
                        headers: ["Accept": "text/event-stream", "Authorization": "Bearer \(token)"]))
                #expect(await reader.head()?.status == 200)
                readers.append(reader)
            }
            await group.triggerGracefulShutdown()
            // Each stream ends (the server closes it), and the service group returns.
            for index in readers.indices { _ = await readers[index].rest() }
            _ = try await tasks.next()
        }
        let (open, _) = await built.parts.pool.counts()
        #expect(open == 0)
    }
}
