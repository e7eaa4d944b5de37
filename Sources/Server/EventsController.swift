import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Marketplace
import ServiceLifecycle
import Synchronization

/// `GET /v1/events`: the log for downstream services, gap-safe, as Server-Sent Events or as
/// NDJSON pages, for `service:` tokens with the `events` scope (and admins).
///
/// - **Which events**: `category` and `type` select (each repeatable or a comma-separated list;
///   values of one parameter are alternatives, the two parameters must both hold). Unknown
///   categories and types are refused (400), so a typo never reads as a quiet stream.
/// - **Where to start**: after the checkpoint in `Last-Event-ID` (what an `EventSource` sends
///   when it reconnects), else in `after` (for clients that cannot set headers), else at the
///   beginning of the log. A checkpoint is ``LogCheckpoint/token``: each event carries the one
///   just after it, so resuming from any event's token continues with the next event, none
///   skipped and none repeated, even when transactions commit out of position order.
/// - **SSE** when the request accepts `text/event-stream` (an `EventSource` does) and does not
///   say `format=ndjson`: one `data:` line per event (the JSON below) with `id:` its checkpoint,
///   a `: heartbeat` comment whenever no event came for ``ServerConfiguration/EventStream/heartbeat``;
///   it runs until the client goes away or the server shuts down. Every stream follows the
///   server's one ``LogBroadcast`` (one reader of the log's head, a window of the latest events
///   shared by all streams; a stream behind the window reads the database itself until it
///   reaches it), and writes each batch before it takes the next, so a slow client holds at
///   most one batch in the server: it falls behind in the log (and catches up later), never in
///   memory. At most
///   ``ServerConfiguration/Limits/maxEventStreams`` streams are open at once (503 beyond).
/// - **NDJSON** otherwise (`Accept: application/x-ndjson`, `format=ndjson`, or no preference):
///   one page of at most `limit` events (1…1000, default 100), one JSON object per line, and
///   `GigLedger-Next-After`, the checkpoint to pass as `after` for the next page (unchanged when
///   the page is empty: nothing readable yet). The same events, in the same order, as SSE.
///
/// Each event: `position`, `checkpoint`, `stream`, `category`, `version` (in its stream),
/// `type`, `schemaVersion`, `data`, `actor`, `commandId`, `correlationId`, `causationId`,
/// `occurredAt`, `recordedAt` (docs/JSON.md: lower-case ids, RFC 3339 times, explicit nulls).
/// `data` is at the **current** schema version of its type, upcast through
/// ``EventRegistry/marketplace`` (consumers need no upcasters); a type this server does not
/// know is sent as stored, at its stored version.
struct EventsController: Sendable {
    let store: EventStore
    /// The server's one reader of the log's head, which every event stream follows.
    let broadcast: LogBroadcast
    let settings: ServerConfiguration.EventStream
    let streams: ConcurrencyGate
    let logger: Logger
    let wire = WireCache()

    static let maxLimit = 1000
    static let defaultLimit = 100
    static let eventStream = "text/event-stream"
    static let ndjson = "application/x-ndjson"

    func addRoutes(to group: RouterGroup<ServerContext>) {
        group.get("events") { request, context in try await self.events(request, context) }
    }

    func events(_ request: Request, _ context: ServerContext) async throws -> Response {
        guard let principal = context.principal else { throw AuthError(.missingToken, "No bearer token.") }
        guard principal.has(Principal.Scope.events) else {
            throw AuthError(
                .forbidden, "The event stream is for admins and services whose token has the events scope.")
        }
        let query = try Query(request)
        if query.streaming {
            return try stream(request, query, context)
        }
        return try await page(query)
    }

    // MARK: - NDJSON pages

    func page(_ query: Query) async throws -> Response {
        var batches = store.follow(
            after: query.after, filter: query.filter, batchSize: query.limit, mode: .untilCaughtUp
        ).makeAsyncIterator()
        let batch = try await batches.next()
        var body = ByteBuffer()
        for event in batch?.events ?? [] {
            body.writeBytes(wire.json(event))
            body.writeInteger(UInt8(ascii: "\n"))
        }
        let next = batch?.next ?? query.after
        return Response(
            status: .ok,
            headers: [.contentType: Self.ndjson, .nextAfter: next.token, .cacheControl: "no-cache"],
            body: .init(byteBuffer: body))
    }

    // MARK: - Server-Sent Events

    func stream(_ request: Request, _ query: Query, _ context: ServerContext) throws -> Response {
        guard streams.enter() else {
            throw Problem(
                .serviceUnavailable, code: "OVERLOADED",
                detail: "The server has as many event streams open as it may; retry shortly.", retryAfter: 1)
        }
        // Leaves the gate when the body closure is released, whether or not it ever ran.
        let slot = StreamSlot(gate: streams)
        let follow = broadcast.follow(
            after: query.after, filter: query.filter, batchSize: settings.batchSize, idleAfter: settings.heartbeat)
        let logger = context.logger
        let wire = self.wire
        let body = ResponseBody { writer in
            defer { slot.release() }
            let box = WriterBox(writer)
            do {
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    try await cancelWhenGracefulShutdown { try await Self.pump(follow, wire: wire, into: box) }
                }
            } catch is CancellationError {
                // The client went away or the server is shutting down: nothing to report.
            } catch {
                if !Task.isCancelled {
                    logger.warning("event stream ended", metadata: ["error": "\(error)"])
                }
            }
            writer = box.writer
            try? await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: Self.eventStream, .cacheControl: "no-cache"], body: body)
    }

    /// Writes the follow's batches as SSE frames, one batch at a time, until the follow ends
    /// (cancelled) or a write fails (the client is gone).
    static func pump(_ follow: LogBroadcast.Follow, wire: WireCache, into box: WriterBox) async throws {
        try await box.writer.write(ByteBuffer(string: ": gigledger events\n\n"))
        for try await batch in follow {
            var frames = ByteBuffer()
            if batch.events.isEmpty {
                frames.writeString(": heartbeat\n\n")
            }
            for event in batch.events {
                frames.writeString("id: \(event.checkpoint.token)\ndata: ")
                frames.writeBytes(wire.json(event))
                frames.writeString("\n\n")
            }
            try await box.writer.write(frames)
        }
    }

    /// Carries the response's writer into the task that streams (``pump(_:into:)`` runs in a
    /// child task so that graceful shutdown can cancel it).
    ///
    /// `@unchecked Sendable` is safe: the box is made by the response body closure, handed to
    /// exactly one child task, and read again by the closure only after that task has ended
    /// (structured concurrency: `cancelWhenGracefulShutdown` and the inbound-close handler both
    /// await their child), so the writer is never used by two tasks at once.
    final class WriterBox: @unchecked Sendable {
        var writer: any ResponseBodyWriter
        init(_ writer: any ResponseBodyWriter) { self.writer = writer }
    }

    /// A place in the stream gate: left by ``release()`` when the stream ends, or when the
    /// response is dropped without its body ever running.
    final class StreamSlot: Sendable {
        let gate: ConcurrencyGate
        private let held = Atomic<Bool>(true)
        init(gate: ConcurrencyGate) { self.gate = gate }
        func release() {
            if held.exchange(false, ordering: .acquiringAndReleasing) { gate.leave() }
        }
        deinit { release() }
    }

    // MARK: - Parameters

    struct Query {
        var after: LogCheckpoint
        var filter: LogFilter
        var limit: Int
        var streaming: Bool

        init(_ request: Request) throws {
            let parameters = request.uri.queryParameters
            let categories = Self.list(parameters.getAll("category"))
            for category in categories where !Self.categories.contains(category) {
                throw ProblemMapping.invalidParameter(
                    "category",
                    "Unknown stream category '\(category.prefix(64))'; the categories are \(Self.categories.sorted().joined(separator: ", "))."
                )
            }
            let types = Self.list(parameters.getAll("type"))
            for type in types where EventRegistry.marketplace.schema(of: type) == nil {
                throw ProblemMapping.invalidParameter(
                    "type",
                    "Unknown event type '\(type.prefix(64))'; every type is in Marketplace.docc/StorageFormat.md.")
            }
            filter = LogFilter(categories: categories.isEmpty ? nil : categories, types: types.isEmpty ? nil : types)

            if let header = request.headers[.lastEventID] {
                guard let checkpoint = LogCheckpoint(token: header.trimmingCharacters(in: .whitespaces)) else {
                    throw ProblemMapping.invalidParameter(
                        "Last-Event-ID", "Last-Event-ID must be an event's id from this stream (e.g. 1234-56).")
                }
                after = checkpoint
            } else if let text = parameters["after"] {
                guard let checkpoint = LogCheckpoint(token: String(text)) else {
                    throw ProblemMapping.invalidParameter(
                        "after", "after must be a checkpoint this stream gave (an event's checkpoint, e.g. 1234-56).")
                }
                after = checkpoint
            } else {
                after = .start
            }

            if let text = parameters["limit"] {
                guard let limit = Int(String(text)), (1...EventsController.maxLimit).contains(limit) else {
                    throw ProblemMapping.invalidParameter(
                        "limit", "limit must be a whole number from 1 to \(EventsController.maxLimit).")
                }
                self.limit = limit
            } else {
                limit = EventsController.defaultLimit
            }

            let forcesPage: Bool
            if let format = parameters["format"] {
                guard format == "ndjson" else {
                    throw ProblemMapping.invalidParameter(
                        "format",
                        "format may only be ndjson (a page); ask for the live stream with Accept: text/event-stream.")
                }
                forcesPage = true
            } else {
                forcesPage = false
            }
            let accepted = request.headers[values: .accept].flatMap { $0.split(separator: ",") }.map {
                $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            }
            streaming = !forcesPage && accepted.contains(EventsController.eventStream)
        }

        /// The stream categories of the marketplace.
        static let categories: Set<String> = Set(StreamCategory.allCases.map(\.rawValue))

        /// Repeated values and comma-separated lists, flattened; empty items dropped.
        static func list(_ values: [String]) -> [String] {
            var result: [String] = []
            for value in values {
                for item in value.split(separator: ",") {
                    let trimmed = item.trimmingCharacters(in: .whitespaces)
                    if !trimmed.isEmpty && !result.contains(trimmed) { result.append(trimmed) }
                }
            }
            return result
        }
    }
}

/// The wire form of recent events, shared by every stream of one server: events are immutable
/// and their JSON deterministic, so when 100 subscribers follow the head each event is upcast
/// and encoded once. Bounded: the oldest entries go first.
final class WireCache: Sendable {
    private struct State {
        var entries: [LogCheckpoint: [UInt8]] = [:]
        var order: [LogCheckpoint] = []
        var next = 0
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 4096) { self.capacity = max(1, capacity) }

    func json(_ event: StoredEvent) -> [UInt8] {
        let key = event.checkpoint
        if let found = state.withLock({ $0.entries[key] }) { return found }
        let encoded = WireEvent.json(event)
        state.withLock { state in
            guard state.entries[key] == nil else { return }
            if state.order.count < capacity {
                state.order.append(key)
            } else {
                state.entries[state.order[state.next]] = nil
                state.order[state.next] = key
                state.next = (state.next + 1) % capacity
            }
            state.entries[key] = encoded
        }
        return encoded
    }
}

/// One event on the wire (SSE `data:` and NDJSON lines): the JSON contract of docs/JSON.md.
enum WireEvent {
    static let registry = EventRegistry.marketplace
    static let times = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The event as one line of compact JSON (no newline inside).
    static func json(_ event: StoredEvent) -> [UInt8] {
        var schemaVersion = event.schemaVersion
        var data = event.data.data
        if registry.schema(of: event.type) != nil,
            let current = try? registry.upcast(
                EncodedEvent(type: event.type, schemaVersion: event.schemaVersion, data: event.data.data))
        {
            schemaVersion = current.schemaVersion
            data = current.data
        }
        let metadata = try? event.metadata.decode(EventMetadata.self)
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 512)
        func key(_ name: String) {
            out.append(out.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            string(name)
            out.append(UInt8(ascii: ":"))
        }
        func string(_ text: String) { JSONText.appendString(text, to: &out) }
        func optional(_ text: String?) {
            if let text { string(text) } else { out.append(contentsOf: Array("null".utf8)) }
        }
        func number(_ value: some BinaryInteger) { out.append(contentsOf: Array(String(value).utf8)) }
        key("position")
        number(event.position)
        key("checkpoint")
        string(event.checkpoint.token)
        key("stream")
        string(event.stream)
        key("category")
        string(event.stream.split(separator: "-", maxSplits: 1).first.map(String.init) ?? event.stream)
        key("version")
        number(event.version)
        key("type")
        string(event.type)
        key("schemaVersion")
        number(schemaVersion)
        key("data")
        out.append(contentsOf: data.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") })
        key("actor")
        optional(metadata?.actor)
        key("commandId")
        optional(metadata?.commandId.uuidString.lowercased())
        key("correlationId")
        optional(metadata?.correlationId.uuidString.lowercased())
        key("causationId")
        optional(metadata?.causationId?.uuidString.lowercased())
        key("occurredAt")
        string(times.format(event.occurredAt))
        key("recordedAt")
        string(times.format(event.recordedAt))
        out.append(UInt8(ascii: "}"))
        return out
    }
}

extension HTTPField.Name {
    /// The `after` of the next NDJSON page of `/v1/events`.
    static let nextAfter = HTTPField.Name("GigLedger-Next-After")!
}
