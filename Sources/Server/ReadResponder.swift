import EventStore
import Foundation
import Hummingbird
import Projections

/// What every read shares: the `minPosition` wait, the parameters every list takes, and the
/// response — the library's result as the body, the checkpoint it reflects in
/// `GigLedger-Checkpoint`, an `ETag` (a matching `If-None-Match` gets 304).
///
/// The checkpoint is the one the query result carries (``ReadCheckpoint``s read in the same
/// snapshot as its rows): the lowest position among the projections it was read from.
struct ReadResponder: Sendable {
    let store: EventStore
    let watcher: ProjectionWatcher
    let limits: ServerConfiguration.Limits

    /// Waits until `projectors` have passed the request's `minPosition`, if it has one: at most
    /// `waitMs` (default 2 s), else 503 `NOT_YET_PROJECTED` with the position they reached.
    func waitIfAsked(_ request: Request, projectors: [String]) async throws {
        let query = request.uri.queryParameters
        guard let text = query["minPosition"] else { return }
        guard let position = Int64(String(text)), position > 0 else {
            throw ProblemMapping.invalidParameter(
                "minPosition", "minPosition must be a positive log position, as a command returned.")
        }
        var timeout = limits.readWaitDefault
        if let text = query["waitMs"] {
            guard let millis = Int(String(text)), millis >= 0 else {
                throw ProblemMapping.invalidParameter("waitMs", "waitMs must be a whole number of milliseconds ≥ 0.")
            }
            timeout = min(.milliseconds(millis), limits.readWaitMax)
        }
        guard let target = try await store.checkpoint(atPosition: position) else {
            throw ProblemMapping.invalidParameter(
                "minPosition", "No event has position \(position); pass a position a command returned.")
        }
        guard await watcher.wait(for: target, projectors: projectors, timeout: timeout) else {
            let checkpoints = try await watcher.current()
            let reached = projectors.map { checkpoints[$0]?.position ?? 0 }.min() ?? 0
            throw Problem(
                .serviceUnavailable, code: "NOT_YET_PROJECTED",
                detail: "The read model has not reached position \(position) yet (it is at \(reached)); retry shortly.",
                checkpoint: reached, retryAfter: 1)
        }
    }

    /// The position a result read from `checkpoints` reflects: the lowest of them.
    static func position(_ checkpoints: [ReadCheckpoint]) -> Int64 {
        checkpoints.map(\.position).min() ?? 0
    }

    /// 200 with the body, its ETag and checkpoint; 304 when `If-None-Match` names the same ETag.
    func respond(_ request: Request, _ value: some Encodable, checkpoint: Int64) throws -> Response {
        let data = try JSONBody.data(value)
        let etag = "\"\(Self.hash(data))\""
        var headers: HTTPFields = [.eTag: etag, .checkpoint: String(checkpoint), .cacheControl: "no-cache"]
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: {
                let tag = $0.trimmingCharacters(in: .whitespaces)
                return tag == etag || tag == "W/\(etag)" || tag == "*"
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A `Snapshot` or `Page`'s response: its checkpoints say what it reflects.
    func respond<Value: Sendable & Codable & Hashable>(_ request: Request, _ snapshot: Snapshot<Value>) throws
        -> Response
    {
        try respond(request, snapshot, checkpoint: Self.position(snapshot.checkpoints))
    }

    func respond<Item: Sendable & Codable & Hashable>(_ request: Request, _ page: Page<Item>) throws -> Response {
        try respond(request, page, checkpoint: Self.position(page.checkpoints))
    }

    /// FNV-1a, 64 bits, in hex: enough to tell two bodies apart for caching.
    static func hash(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    // MARK: - Parameters

    static func principal(_ context: ServerContext) throws -> Principal {
        guard let principal = context.principal else { throw AuthError(.missingToken, "No bearer token.") }
        return principal
    }

    static func uuid(_ context: ServerContext, _ name: String) throws -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw ProblemMapping.invalidParameter(name, "\(name) must be a UUID.")
        }
        return id
    }

    /// `limit`: a whole number in `range`, `fallback` when absent.
    static func limit(_ request: Request, _ range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return fallback }
        guard let limit = Int(String(text)), range.contains(limit) else {
            throw ProblemMapping.invalidParameter(
                "limit", "limit must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return limit
    }

    /// The query parameter `name` as text, if present.
    static func text(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map(String.init)
    }
}
