import EventStore
import Foundation
import GigLedger
import Hummingbird
import Marketplace
import Projections

/// The competition and price read models over HTTP, through the `Competition` and `Prices` query
/// APIs; bodies are their results (`Snapshot`, `Page`: docs/JSON.md), with the conventions of
/// every read (``ReadResponder``): checkpoint header, `ETag`, `minPosition`, and lists paged by
/// `limit` + the list's own `cursor` (its `nextCursor`).
///
/// Who may read what:
/// - `GET /v1/gigs/{gigId}/competition`: the gig's client, admins and services with the `reads`
///   scope see everything; any other freelancer or client sees the same object with the bid
///   amounts (`minBidMinor`, `medianBidMinor`, `maxBidMinor`, `medianToBudgetMax`) withheld as
///   `null` — a minimum or maximum is one bidder's price — and the counts and public bucket as
///   they are. Below 5 bids the read model itself withholds them from everyone.
/// - The market-wide aggregates (competition per skill and week, price weeks, trends, rate
///   guidance, price wars): every freelancer, client and admin, and services with `reads`.
struct MarketReadsController: Sendable {
    let service: MarketplaceService
    let competition: Competition
    let prices: Prices
    let reads: ReadResponder

    static let gigProjectors = [CompetitionByGigProjector().name]
    static let skillProjectors = [CompetitionByGigProjector().name, CompetitionBySkillProjector().name]
    static let priceProjectors = [PriceTrendsProjector().name]
    /// Lists answer pages of 1…1000 items, 100 by default.
    static let limits = 1...1000
    static let defaultLimit = 100

    func addRoutes(to group: RouterGroup<ServerContext>) {
        group.get("gigs/:gigId/competition") { request, context in try await self.gigCompetition(request, context) }
        group.get("competition/skill-weeks") { request, context in try await self.skillWeeks(request, context) }
        group.get("skills/:skill/price-weeks") { request, context in try await self.priceWeeks(request, context) }
        group.get("skills/:skill/rate-guidance") { request, context in
            try await self.rateGuidance(request, context)
        }
        group.get("price-trends") { request, context in try await self.trends(request, context) }
        group.get("price-wars") { request, context in try await self.priceWars(request, context) }
    }

    // MARK: - Routes

    func gigCompetition(_ request: Request, _ context: ServerContext) async throws -> Response {
        let gig = try ReadResponder.uuid(context, "gigId")
        let principal = try ReadResponder.principal(context)
        let whole: Bool
        switch principal.kind {
        case .admin: whole = true
        case .service:
            guard principal.has(Principal.Scope.reads) else { throw Self.servicesNeedReads }
            whole = true
        case .client(let client): whole = try await ReadsController.owner(of: gig, service) == client
        case .freelancer: whole = false
        }
        try await reads.waitIfAsked(request, projectors: Self.gigProjectors)
        guard let found = try await competition.gig(gig) else {
            throw Problem(
                .notFound, code: "NOT_FOUND",
                detail: "The competition read model has no gig \(gig.uuidString.lowercased()) (yet).")
        }
        guard !whole else { return try reads.respond(request, found) }
        var withheld = found.data
        withheld.minBidMinor = nil
        withheld.medianBidMinor = nil
        withheld.maxBidMinor = nil
        withheld.medianToBudgetMax = nil
        return try reads.respond(request, Snapshot(data: withheld, checkpoints: found.checkpoints))
    }

    func skillWeeks(_ request: Request, _ context: ServerContext) async throws -> Response {
        try Self.mayReadMarket(context)
        let skill = try Self.text(request, "skill").map { try Self.skill($0) }
        var weeks = 4
        if let text = Self.text(request, "weeks") {
            guard let value = Int(text), (1...520).contains(value) else {
                throw ProblemMapping.invalidParameter("weeks", "weeks must be a whole number from 1 to 520.")
            }
            weeks = value
        }
        let limit = try ReadResponder.limit(request, Self.limits, default: Self.defaultLimit)
        let cursor = Self.text(request, "cursor")
        try await reads.waitIfAsked(request, projectors: Self.skillProjectors)
        let page = try await Self.paging {
            try await competition.skillWeeks(skill: skill, weeks: weeks, limit: limit, after: cursor)
        }
        return try reads.respond(request, page)
    }

    func priceWeeks(_ request: Request, _ context: ServerContext) async throws -> Response {
        try Self.mayReadMarket(context)
        let skill = try Self.skill(context.parameters.get("skill") ?? "")
        let currency = try Self.currency(request)
        let limit = try ReadResponder.limit(request, Self.limits, default: Self.defaultLimit)
        let cursor = Self.text(request, "cursor")
        try await reads.waitIfAsked(request, projectors: Self.priceProjectors)
        let page = try await Self.paging {
            try await prices.weeks(skill: skill, currency: currency, limit: limit, after: cursor)
        }
        return try reads.respond(request, page)
    }

    func rateGuidance(_ request: Request, _ context: ServerContext) async throws -> Response {
        try Self.mayReadMarket(context)
        let skill = try Self.skill(context.parameters.get("skill") ?? "")
        let currency = try Self.currency(request)
        try await reads.waitIfAsked(request, projectors: Self.priceProjectors)
        return try reads.respond(request, try await prices.rateGuidance(skill: skill, currency: currency))
    }

    func trends(_ request: Request, _ context: ServerContext) async throws -> Response {
        try Self.mayReadMarket(context)
        let skill = try Self.text(request, "skill").map { try Self.skill($0) }
        let currency = try Self.currency(request)
        let limit = try ReadResponder.limit(request, Self.limits, default: Self.defaultLimit)
        let cursor = Self.text(request, "cursor")
        try await reads.waitIfAsked(request, projectors: Self.priceProjectors)
        let page = try await Self.paging {
            try await prices.trends(skill: skill, currency: currency, limit: limit, after: cursor)
        }
        return try reads.respond(request, page)
    }

    func priceWars(_ request: Request, _ context: ServerContext) async throws -> Response {
        try Self.mayReadMarket(context)
        let limit = try ReadResponder.limit(request, Self.limits, default: Self.defaultLimit)
        let cursor = Self.text(request, "cursor")
        try await reads.waitIfAsked(request, projectors: Self.priceProjectors)
        let page = try await Self.paging { try await prices.priceWars(limit: limit, after: cursor) }
        return try reads.respond(request, page)
    }

    // MARK: - Helpers

    static let servicesNeedReads = AuthError(
        .forbidden, "A service reads the market's figures only with the reads scope.")

    /// Freelancers, clients and admins read the market-wide figures; services need `reads`.
    static func mayReadMarket(_ context: ServerContext) throws {
        let principal = try ReadResponder.principal(context)
        if case .service = principal.kind, !principal.has(Principal.Scope.reads) { throw servicesNeedReads }
    }

    static func text(_ request: Request, _ name: String) -> String? { ReadResponder.text(request, name) }

    /// A skill of the taxonomy, by slug (400 naming `skill` otherwise).
    static func skill(_ text: String) throws -> String {
        guard let skill = try? Skill(slug: text) else {
            throw ProblemMapping.invalidParameter(
                "skill", "skill must be a skill of the taxonomy by its slug, e.g. nlp or python.")
        }
        return skill.slug
    }

    /// The optional `currency`: an ISO 4217 code GigLedger supports.
    static func currency(_ request: Request) throws -> String? {
        guard let text = text(request, "currency") else { return nil }
        guard let currency = try? Currency(code: text) else {
            throw ProblemMapping.invalidParameter(
                "currency", "currency must be an ISO 4217 code GigLedger supports, e.g. EUR or USD.")
        }
        return currency.code
    }

    /// Runs a list query; a cursor the list refuses is a 400 naming `cursor`.
    static func paging<Item: Sendable & Codable & Hashable>(_ body: () async throws -> Page<Item>) async throws
        -> Page<Item>
    {
        do { return try await body() } catch let error as ReadQueryError where error.codeName == "INVALID_CURSOR" {
            throw ProblemMapping.invalidParameter("cursor", error.description)
        }
    }
}
