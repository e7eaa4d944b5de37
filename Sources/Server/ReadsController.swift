import EventStore
import Foundation
import GigLedger
import Hummingbird
import Marketplace
import Projections

/// The read models over HTTP: candidates for a gig, a freelancer's feed, explain, projection status.
///
/// Every read answers with the checkpoint it reflects (`GigLedger-Checkpoint` header and
/// `checkpoint` in the body: the projector had applied every event up to that position when
/// the read began), an `ETag` (a matching `If-None-Match` gets 304), and waits for
/// `minPosition` when asked: until the projectors it reads have passed that position, at most
/// `waitMs` (default 2 s), else 503 with the checkpoint reached.
struct ReadsController: Sendable {
    let service: MarketplaceService
    let matching: Matching
    let watcher: ProjectionWatcher
    let engine: ProjectionEngine
    let limits: ServerConfiguration.Limits

    static let matchingProjectors = ["matching"]

    /// One scored pair on the wire: the library's own result, the one JSON contract that
    /// `gigctl match --json` prints too (docs/JSON.md).
    typealias Match = Matching.Match

    /// A page of a ranked list.
    struct Page: Codable, Sendable, Equatable {
        let checkpoint: Int64
        let items: [Match]
        /// Pass as `cursor` for the next page; absent on the last.
        let nextCursor: String?
    }

    struct Explanation: Codable, Sendable, Equatable {
        let checkpoint: Int64
        let match: Match
    }

    struct Status: Codable, Sendable, Equatable {
        let checkpoint: Int64
        let projectors: [ProjectionStatus]
    }

    func addRoutes(to group: RouterGroup<ServerContext>) {
        group.get("gigs/:gigId/candidates") { request, context in try await self.candidates(request, context) }
        group.get("gigs/:gigId/explain/:freelancerId") { request, context in try await self.explain(request, context) }
        group.get("freelancers/:freelancerId/feed") { request, context in try await self.feed(request, context) }
        group.get("projections/status") { request, context in try await self.status(request, context) }
    }

    // MARK: - Routes

    func candidates(_ request: Request, _ context: ServerContext) async throws -> Response {
        let gig = try Self.uuid(context, "gigId")
        let principal = try Self.principal(context)
        if !principal.has(Principal.Scope.reads) {
            guard case .client(let client) = principal.kind, try await owner(of: gig) == client else {
                throw AuthError(
                    .forbidden,
                    "Only the gig's client, an admin or a service with the reads scope may see its candidates.")
            }
        }
        let paging = try Paging(request)
        let checkpoint = try await ready(request, projectors: Self.matchingProjectors)
        let found = try await matching.candidates(forGig: gig, k: paging.offset + paging.limit + 1).data
        return try respond(request, paging.page(found, checkpoint: checkpoint), checkpoint: checkpoint)
    }

    func feed(_ request: Request, _ context: ServerContext) async throws -> Response {
        let freelancer = try Self.uuid(context, "freelancerId")
        let principal = try Self.principal(context)
        if !principal.has(Principal.Scope.reads) {
            guard case .freelancer(let me) = principal.kind, me.uuid == freelancer else {
                throw AuthError(
                    .forbidden,
                    "A freelancer's feed is theirs: only they, an admin or a service with the reads scope may see it.")
            }
        }
        let paging = try Paging(request)
        let checkpoint = try await ready(request, projectors: Self.matchingProjectors)
        let found = try await matching.feed(forFreelancer: freelancer, k: paging.offset + paging.limit + 1).data
        return try respond(request, paging.page(found, checkpoint: checkpoint), checkpoint: checkpoint)
    }

    func explain(_ request: Request, _ context: ServerContext) async throws -> Response {
        let gig = try Self.uuid(context, "gigId")
        let freelancer = try Self.uuid(context, "freelancerId")
        let principal = try Self.principal(context)
        if !principal.has(Principal.Scope.reads) {
            let allowed: Bool
            switch principal.kind {
            case .freelancer(let me): allowed = me.uuid == freelancer
            case .client(let client): allowed = try await owner(of: gig) == client
            default: allowed = false
            }
            guard allowed else {
                throw AuthError(
                    .forbidden,
                    "Only the gig's client, the freelancer, an admin or a service with the reads scope may see this.")
            }
        }
        let checkpoint = try await ready(request, projectors: Self.matchingProjectors)
        guard let match = try await matching.explain(gig: gig, freelancer: freelancer)?.data else {
            throw Problem(
                .notFound, code: "NOT_FOUND",
                detail: "The matching read model has no such gig or freelancer (as of position \(checkpoint)).")
        }
        return try respond(request, Explanation(checkpoint: checkpoint, match: match), checkpoint: checkpoint)
    }

    func status(_ request: Request, _ context: ServerContext) async throws -> Response {
        let principal = try Self.principal(context)
        guard principal.has(Principal.Scope.reads) else {
            throw AuthError(.forbidden, "Projection status is for admins and services with the reads scope.")
        }
        let projectors = try await engine.status()
        let checkpoint = projectors.map(\.checkpoint).min() ?? 0
        return try respond(request, Status(checkpoint: checkpoint, projectors: projectors), checkpoint: checkpoint)
    }

    // MARK: - Helpers

    /// The client who posted `gig`, read from the gig's own stream (404 if it was never posted).
    func owner(of gig: UUID) async throws -> ClientID {
        let state = try await service.load(GigDecider.self, GigID(gig).stream).state
        guard let posted = state.gig else {
            throw Problem(
                .notFound, code: "GIG_NOT_FOUND",
                detail: "No gig has been posted under id \(gig.uuidString.lowercased()).")
        }
        return posted.clientID
    }

    /// Waits for `minPosition` if given; returns the checkpoint (position) the read reflects:
    /// the lowest of `projectors`' checkpoints when the read begins.
    func ready(_ request: Request, projectors: [String]) async throws -> Int64 {
        let query = request.uri.queryParameters
        if let text = query["minPosition"] {
            guard let position = Int64(String(text)), position > 0 else {
                throw ProblemMapping.invalidParameter(
                    "minPosition", "minPosition must be a positive log position, as a command returned.")
            }
            var timeout = limits.readWaitDefault
            if let text = query["waitMs"] {
                guard let millis = Int(String(text)), millis >= 0 else {
                    throw ProblemMapping.invalidParameter(
                        "waitMs", "waitMs must be a whole number of milliseconds ≥ 0.")
                }
                timeout = min(.milliseconds(millis), limits.readWaitMax)
            }
            guard let target = try await service.store.checkpoint(atPosition: position) else {
                throw ProblemMapping.invalidParameter(
                    "minPosition", "No event has position \(position); pass a position a command returned.")
            }
            guard await watcher.wait(for: target, projectors: projectors, timeout: timeout) else {
                let reached = Self.position(try await watcher.current(), projectors)
                throw Problem(
                    .serviceUnavailable, code: "NOT_YET_PROJECTED",
                    detail:
                        "The read model has not reached position \(position) yet (it is at \(reached)); retry shortly.",
                    checkpoint: reached, retryAfter: 1)
            }
        }
        return Self.position(try await watcher.current(), projectors)
    }

    static func position(_ checkpoints: [String: LogCheckpoint], _ projectors: [String]) -> Int64 {
        projectors.map { checkpoints[$0]?.position ?? 0 }.min() ?? 0
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

    /// FNV-1a, 64 bits, in hex: enough to tell two bodies apart for caching.
    static func hash(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

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

    /// `limit` (1…100, default 10) and an opaque `cursor` from the previous page.
    struct Paging {
        let limit: Int
        let offset: Int
        static let maxOffset = 1000

        init(_ request: Request) throws {
            let query = request.uri.queryParameters
            if let text = query["limit"] {
                guard let limit = Int(String(text)), (1...100).contains(limit) else {
                    throw ProblemMapping.invalidParameter("limit", "limit must be a whole number from 1 to 100.")
                }
                self.limit = limit
            } else {
                limit = 10
            }
            if let text = query["cursor"] {
                guard let data = Data(base64Encoded: String(text)), let decoded = String(data: data, encoding: .utf8),
                    decoded.hasPrefix("o:"), let offset = Int(decoded.dropFirst(2)),
                    (0...Self.maxOffset).contains(offset)
                else {
                    throw ProblemMapping.invalidParameter("cursor", "cursor must be a nextCursor this server returned.")
                }
                self.offset = offset
            } else {
                offset = 0
            }
        }

        func page(_ all: [Match], checkpoint: Int64) -> Page {
            let items = Array(all.dropFirst(offset).prefix(limit))
            let more = all.count > offset + limit && offset + limit <= Self.maxOffset
            return Page(
                checkpoint: checkpoint, items: items,
                nextCursor: more ? Data("o:\(offset + limit)".utf8).base64EncodedString() : nil)
        }
    }
}
