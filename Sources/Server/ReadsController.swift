import EventStore
import Foundation
import GigLedger
import Hummingbird
import Marketplace
import Projections

/// Matching over HTTP — candidates for a gig, a freelancer's feed, explain, the fairness audit —
/// and projection status.
///
/// Bodies are the library's own results, the one JSON contract `gigctl … --json` prints too
/// (docs/JSON.md): candidates and feed a `Page` of `Matching.Match`, explain a `Snapshot` of one,
/// the audit a `Snapshot` of `FairnessAudit.Report`, status a `ProjectionMonitor.Report`. Every read answers with the checkpoint it reflects, an
/// `ETag`, and waits for `minPosition` when asked (``ReadResponder``).
struct ReadsController: Sendable {
    let service: MarketplaceService
    let matching: Matching
    let monitor: ProjectionMonitor
    let reads: ReadResponder

    static let matchingProjectors = [MatchingProjector().name]

    func addRoutes(to group: RouterGroup<ServerContext>) {
        group.get("gigs/:gigId/candidates") { request, context in try await self.candidates(request, context) }
        group.get("gigs/:gigId/explain/:freelancerId") { request, context in try await self.explain(request, context) }
        group.get("freelancers/:freelancerId/feed") { request, context in try await self.feed(request, context) }
        group.get("audit/matching") { request, context in try await self.auditMatching(request, context) }
        group.get("projections/status") { request, context in try await self.status(request, context) }
    }

    // MARK: - Routes

    func candidates(_ request: Request, _ context: ServerContext) async throws -> Response {
        let gig = try ReadResponder.uuid(context, "gigId")
        let principal = try ReadResponder.principal(context)
        if !principal.has(Principal.Scope.reads) {
            guard case .client(let client) = principal.kind, try await owner(of: gig) == client else {
                throw AuthError(
                    .forbidden,
                    "Only the gig's client, an admin or a service with the reads scope may see its candidates.")
            }
        }
        let paging = try Paging(request)
        try await reads.waitIfAsked(request, projectors: Self.matchingProjectors)
        let found = try await matching.candidates(forGig: gig, k: paging.offset + paging.limit + 1)
        return try reads.respond(request, paging.page(found))
    }

    func feed(_ request: Request, _ context: ServerContext) async throws -> Response {
        let freelancer = try ReadResponder.uuid(context, "freelancerId")
        let principal = try ReadResponder.principal(context)
        if !principal.has(Principal.Scope.reads) {
            guard case .freelancer(let me) = principal.kind, me.uuid == freelancer else {
                throw AuthError(
                    .forbidden,
                    "A freelancer's feed is theirs: only they, an admin or a service with the reads scope may see it.")
            }
        }
        let paging = try Paging(request)
        try await reads.waitIfAsked(request, projectors: Self.matchingProjectors)
        let found = try await matching.feed(forFreelancer: freelancer, k: paging.offset + paging.limit + 1)
        return try reads.respond(request, paging.page(found))
    }

    func explain(_ request: Request, _ context: ServerContext) async throws -> Response {
        let gig = try ReadResponder.uuid(context, "gigId")
        let freelancer = try ReadResponder.uuid(context, "freelancerId")
        let principal = try ReadResponder.principal(context)
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
        try await reads.waitIfAsked(request, projectors: Self.matchingProjectors)
        guard let match = try await matching.explain(gig: gig, freelancer: freelancer) else {
            throw Problem(
                .notFound, code: "NOT_FOUND", detail: "The matching read model has no such gig or freelancer (yet).")
        }
        return try reads.respond(request, match)
    }

    /// `gigctl audit matching --json` over HTTP: `weeks` (1…520, default 4) and `k` (1…100,
    /// default 10). It ranks every gig of the window, so it takes seconds on a large market: for
    /// admins and services with the reads scope. The ranking uses up to a quarter of the pool's
    /// connections (at most 4, those free at the time; it never waits for one).
    func auditMatching(_ request: Request, _ context: ServerContext) async throws -> Response {
        let principal = try ReadResponder.principal(context)
        guard principal.has(Principal.Scope.reads) else {
            throw AuthError(.forbidden, "The fairness audit is for admins and services with the reads scope.")
        }
        let weeks = try Self.whole(request, "weeks", 1...520, default: 4)
        let k = try Self.whole(request, "k", 1...100, default: 10)
        try await reads.waitIfAsked(request, projectors: Self.matchingProjectors)
        let audit = FairnessAudit(
            pool: matching.pool, weights: matching.weights, workers: min(4, matching.pool.maxConnections / 4))
        return try reads.respond(request, try await audit.run(weeks: weeks, k: k))
    }

    func status(_ request: Request, _ context: ServerContext) async throws -> Response {
        let principal = try ReadResponder.principal(context)
        guard principal.has(Principal.Scope.reads) else {
            throw AuthError(.forbidden, "Projection status is for admins and services with the reads scope.")
        }
        let projectors = monitor.projectors.map(\.name)
        try await reads.waitIfAsked(request, projectors: projectors)
        let report = try await monitor.report()
        let checkpoint =
            report.projections.filter { projectors.contains($0.name) }.map(\.checkpoint).min() ?? 0
        return try reads.respond(request, report, checkpoint: checkpoint)
    }

    // MARK: - Helpers

    /// The query parameter `name`, a whole number in `range` (`fallback` when absent).
    static func whole(_ request: Request, _ name: String, _ range: ClosedRange<Int>, default fallback: Int) throws
        -> Int
    {
        guard let text = ReadResponder.text(request, name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ProblemMapping.invalidParameter(
                name, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return value
    }

    /// The client who posted `gig`, read from the gig's own stream (404 if it was never posted).
    func owner(of gig: UUID) async throws -> ClientID {
        try await Self.owner(of: gig, service)
    }

    static func owner(of gig: UUID, _ service: MarketplaceService) async throws -> ClientID {
        let state = try await service.load(GigDecider.self, GigID(gig).stream).state
        guard let posted = state.gig else {
            throw Problem(
                .notFound, code: "GIG_NOT_FOUND",
                detail: "No gig has been posted under id \(gig.uuidString.lowercased()).")
        }
        return posted.clientID
    }

    /// `limit` (1…100, default 10) and an opaque `cursor` from the previous page. Matching ranks
    /// a top k rather than paging a table, so a page is a slice of the top `offset + limit`.
    struct Paging {
        let limit: Int
        let offset: Int
        static let maxOffset = 1000

        init(_ request: Request) throws {
            limit = try ReadResponder.limit(request, 1...100, default: 10)
            if let text = request.uri.queryParameters["cursor"] {
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

        func page(_ all: Snapshot<[Matching.Match]>) -> Page<Matching.Match> {
            let items = Array(all.data.dropFirst(offset).prefix(limit))
            let more = all.data.count > offset + limit && offset + limit <= Self.maxOffset
            return Page(
                data: items, nextCursor: more ? Data("o:\(offset + limit)".utf8).base64EncodedString() : nil,
                checkpoints: all.checkpoints)
        }
    }
}
