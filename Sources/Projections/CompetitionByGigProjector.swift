import EventStore
import Foundation
import PQ

/// Competition per gig (DOMAIN.md): bids total and live, unique bidders, first bid time, min /
/// median / max bid, median bid ÷ budget max, and the public bucket of the bid count.
///
/// Tables (version 1): `read_models.competition_gigs_v1` (one row per gig) and its working set
/// `read_models.competition_bids_v1` (each bid's latest amount and whether it is live). Min,
/// median and max — and the ratio — are withheld (NULL) while a gig has fewer than 5 bids: they
/// would reveal one bidder's price. Statistics cover every bid ever placed on the gig, at its
/// latest amount (withdrawn and declined bids included: they are part of the market). Amounts
/// are minor units of the gig's currency. `status`: open, awarded (also once the awarded gig is
/// closed as filled) or closed (cancelled or expired). Deterministic: business times only.
public struct CompetitionByGigProjector: Projector {
    public let name = "competition_gigs"
    public let version = 1
    public let tables = ["competition_gigs_v1", "competition_bids_v1"]
    public init() {}

    public func prepare(on connection: Connection) async throws {
        try await connection.execute("""
            CREATE TABLE IF NOT EXISTS competition_gigs_v1 (
                gig_id               uuid        NOT NULL,
                client_id            uuid        NOT NULL,
                currency             text        NOT NULL,
                budget_min_minor     bigint      NOT NULL,
                budget_max_minor     bigint      NOT NULL,
                skills               text[]      NOT NULL,
                posted_at            timestamptz NOT NULL,
                status               text        NOT NULL,
                bids_total           integer     NOT NULL DEFAULT 0,
                bids_live            integer     NOT NULL DEFAULT 0,
                unique_bidders       integer     NOT NULL DEFAULT 0,
                first_bid_at         timestamptz,
                min_bid_minor        bigint,
                median_bid_minor     numeric(20, 1),
                max_bid_minor        bigint,
                median_to_budget_max numeric(10, 4),
                bucket               text        NOT NULL DEFAULT '<5',
                CONSTRAINT competition_gigs_v1_pkey PRIMARY KEY (gig_id)
            )
            """)
        try await connection.execute("""
            CREATE TABLE IF NOT EXISTS competition_bids_v1 (
                gig_id        uuid        NOT NULL,
                bid_id        uuid        NOT NULL,
                freelancer_id uuid        NOT NULL,
                amount_minor  bigint      NOT NULL,
                placed_at     timestamptz NOT NULL,
                live          boolean     NOT NULL,
                CONSTRAINT competition_bids_v1_pkey PRIMARY KEY (gig_id, bid_id)
            )
            """)
    }

    private struct Payload: Decodable {
        struct Amount: Decodable { let currency: String; let minorUnits: Int64 }
        let gigId: UUID
        let clientId: UUID?
        let bidId: UUID?
        let freelancerId: UUID?
        let amount: Amount?
        let budgetMin: Amount?
        let budgetMax: Amount?
        let skills: [String]?
    }

    public func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        let interesting: Set<String> = ["GigPosted", "BidPlaced", "BidRevised", "BidWithdrawn", "BidDeclined", "BidAccepted", "GigClosed"]
        guard interesting.contains(event.type) else { return }
        let data: Payload
        do { data = try event.data.decode(Payload.self) } catch {
            throw UnhandledEvent(event: event, reason: "its data does not decode as \(event.type) v\(event.schemaVersion): \(error)")
        }
        let gig = data.gigId
        switch event.type {
        case "GigPosted":
            guard let client = data.clientId, let min = data.budgetMin, let max = data.budgetMax, let skills = data.skills else {
                throw UnhandledEvent(event: event, reason: "GigPosted without clientId, budget or skills")
            }
            try await connection.execute("""
                INSERT INTO competition_gigs_v1
                    (gig_id, client_id, currency, budget_min_minor, budget_max_minor, skills, posted_at, status)
                VALUES (\(gig), \(client), \(max.currency), \(min.minorUnits), \(max.minorUnits), \(skills)::text[], \(event.occurredAt), 'open')
                ON CONFLICT (gig_id) DO NOTHING
                """)
            return
        case "BidPlaced":
            guard let bid = data.bidId, let freelancer = data.freelancerId, let amount = data.amount else {
                throw UnhandledEvent(event: event, reason: "BidPlaced without bidId, freelancerId or amount")
            }
            try await connection.execute("""
                INSERT INTO competition_bids_v1 (gig_id, bid_id, freelancer_id, amount_minor, placed_at, live)
                VALUES (\(gig), \(bid), \(freelancer), \(amount.minorUnits), \(event.occurredAt), true)
                ON CONFLICT (gig_id, bid_id) DO NOTHING
                """)
        case "BidRevised":
            guard let bid = data.bidId, let amount = data.amount else { throw UnhandledEvent(event: event, reason: "BidRevised without bidId or amount") }
            try await connection.execute("UPDATE competition_bids_v1 SET amount_minor = \(amount.minorUnits) WHERE gig_id = \(gig) AND bid_id = \(bid)")
        case "BidWithdrawn", "BidDeclined":
            guard let bid = data.bidId else { throw UnhandledEvent(event: event, reason: "\(event.type) without bidId") }
            try await connection.execute("UPDATE competition_bids_v1 SET live = false WHERE gig_id = \(gig) AND bid_id = \(bid)")
        default:
            // Awarded or closed: every bid lapses.
            // (A gig closed after its award — filled — stays "awarded".)
            let status = event.type == "BidAccepted" ? "awarded" : "closed"
            try await connection.execute("UPDATE competition_bids_v1 SET live = false WHERE gig_id = \(gig)")
            try await connection.execute("UPDATE competition_gigs_v1 SET status = \(status) WHERE gig_id = \(gig) AND status = 'open'")
        }
        try await connection.execute("""
            UPDATE competition_gigs_v1 g SET
                bids_total = s.total, bids_live = s.live, unique_bidders = s.bidders, first_bid_at = s.first_at,
                min_bid_minor = CASE WHEN s.total >= 5 THEN s.min_amount END,
                median_bid_minor = CASE WHEN s.total >= 5 THEN s.median END,
                max_bid_minor = CASE WHEN s.total >= 5 THEN s.max_amount END,
                median_to_budget_max = CASE WHEN s.total >= 5 AND g.budget_max_minor > 0 THEN round(s.median / g.budget_max_minor, 4) END,
                bucket = CASE WHEN s.total < 5 THEN '<5' WHEN s.total < 10 THEN '5-10' WHEN s.total < 15 THEN '10-15'
                              WHEN s.total < 20 THEN '15-20' WHEN s.total < 50 THEN '20-50' ELSE '50+' END
            FROM (
                SELECT count(*)::int AS total, (count(*) FILTER (WHERE live))::int AS live,
                       count(DISTINCT freelancer_id)::int AS bidders, min(placed_at) AS first_at,
                       min(amount_minor) AS min_amount, max(amount_minor) AS max_amount,
                       (percentile_cont(0.5) WITHIN GROUP (ORDER BY amount_minor))::numeric(20, 1) AS median
                FROM competition_bids_v1 WHERE gig_id = \(gig)
            ) s
            WHERE g.gig_id = \(gig)
            """)
    }
}
