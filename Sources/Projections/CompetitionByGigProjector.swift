import EventStore
import Foundation
import Marketplace
import PQ

/// Competition per gig (sql/READ_MODELS.md): bids total and live, unique bidders, first bid time, min /
/// median / max bid, median bid ÷ budget max, and the public bucket of the bid count.
///
/// Tables (version 1): `read_models.competition_gigs_v1` (one row per gig) and its working set
/// `read_models.competition_bids_v1` (each bid's latest amount and whether it is live). Min,
/// median and max — and the ratio — are withheld (NULL) while a gig has fewer than 5 bids: they
/// would reveal one bidder's price. Statistics cover every bid ever placed on the gig, at its
/// latest amount (withdrawn and declined bids included: they are part of the market). Amounts
/// are minor units of the gig's currency. `status`: open, awarded (also once the awarded gig is
/// closed as filled) or closed (cancelled or expired). Deterministic: business times only.
public struct CompetitionByGigProjector: MarketplaceProjector {
    /// Its name in `ledger.projections`, the status and the read checkpoints.
    public let name = "competition_gigs"
    /// Read-model version 1: the `_v1` of its tables.
    public let version = 1
    /// The tables it writes (in `read_models`).
    public let tables = ["competition_gigs_v1", "competition_bids_v1"]
    /// The event types it reads (the domain's own constants); it ignores every other type.
    public let eventTypes: Set<String> = [
        GigEvent.GigPosted.eventType, GigEvent.BidPlaced.eventType, GigEvent.BidRevised.eventType,
        GigEvent.BidWithdrawn.eventType, GigEvent.BidDeclined.eventType, GigEvent.BidAccepted.eventType,
        GigEvent.GigClosed.eventType,
    ]
    /// Where its events are decoded (``EventRegistry/marketplace`` unless a test gives another).
    public let registry: EventRegistry
    /// A projector decoding its events through `registry`.
    public init(registry: EventRegistry = .marketplace) { self.registry = registry }

    /// Creates `competition_gigs_v1` and `competition_bids_v1` with their indexes if missing
    /// (idempotent).
    public func prepare(on connection: Connection) async throws {
        try await connection.execute(
            """
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
        try await connection.execute(
            """
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

    /// Applies one event, as a batch of one (``apply(batch:on:)``).
    public func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        try await apply(batch: [event], on: connection)
    }

    /// Set-based: the batch is folded in Swift (per gig and bid, in log order), then written with
    /// at most seven statements whatever its size. Every write is keyed (insert once, assign the
    /// latest value, lapse, first terminal status), and the statistics are recomputed from the
    /// bid rows of the gigs touched, so re-applying events already applied changes nothing.
    public func apply(batch events: [RecordedEvent], on connection: Connection) async throws {
        var posted: [(gig: UUID, client: UUID, currency: String, min: Int64, max: Int64, skills: [String], at: Date)] =
            []
        var placed: [(gig: UUID, bid: UUID, freelancer: UUID, amount: Int64, at: Date)] = []
        var revised = LastWins<[UUID], Int64>()
        var dropped = LastWins<[UUID], Bool>()
        var terminal = LastWins<UUID, String>()
        var touched = LastWins<UUID, Bool>()
        for event in events where eventTypes.contains(event.type) {
            guard case .gig(let decoded) = try event.decoded(with: registry) else { continue }
            let gig: UUID
            switch decoded {
            case .gigPosted(let p):
                posted.append(
                    (
                        p.gigID.uuid, p.clientID.uuid, p.budgetMax.currency.code, p.budgetMin.minorUnits,
                        p.budgetMax.minorUnits, p.skills.map(\.slug), event.occurredAt
                    ))
                continue
            case .bidPlaced(let p):
                gig = p.gigID.uuid
                placed.append((gig, p.bidID.uuid, p.freelancerID.uuid, p.amount.minorUnits, event.occurredAt))
            case .bidRevised(let p):
                gig = p.gigID.uuid
                revised.set([gig, p.bidID.uuid], p.amount.minorUnits)
            case .bidWithdrawn(let p):
                gig = p.gigID.uuid
                dropped.set([gig, p.bidID.uuid], true)
            case .bidDeclined(let p):
                gig = p.gigID.uuid
                dropped.set([gig, p.bidID.uuid], true)
            // Awarded or closed: every bid lapses; the first terminal event sets the status (a
            // gig closed after its award — filled — stays "awarded").
            case .bidAccepted(let p):
                gig = p.gigID.uuid
                if terminal[gig] == nil { terminal.set(gig, "awarded") }
            case .gigClosed(let p):
                gig = p.gigID.uuid
                if terminal[gig] == nil { terminal.set(gig, "closed") }
            }
            touched.set(gig, true)
        }
        if !posted.isEmpty {
            try await connection.execute(
                """
                INSERT INTO competition_gigs_v1
                    (gig_id, client_id, currency, budget_min_minor, budget_max_minor, skills, posted_at, status)
                SELECT p.gig_id, p.client_id, p.currency, p.budget_min, p.budget_max, ARRAY(SELECT jsonb_array_elements_text(p.skills)), p.posted_at, 'open'
                FROM unnest(\(posted.map(\.gig))::uuid[], \(posted.map(\.client))::uuid[], \(posted.map(\.currency))::text[],
                            \(posted.map(\.min))::int8[], \(posted.map(\.max))::int8[], \(try posted.map { try PGJSON(encoding: $0.skills) })::jsonb[],
                            \(posted.map(\.at))::timestamptz[])
                     AS p(gig_id, client_id, currency, budget_min, budget_max, skills, posted_at)
                ON CONFLICT (gig_id) DO NOTHING
                """)
        }
        if !placed.isEmpty {
            try await connection.execute(
                """
                INSERT INTO competition_bids_v1 (gig_id, bid_id, freelancer_id, amount_minor, placed_at, live)
                SELECT b.gig_id, b.bid_id, b.freelancer_id, b.amount, b.placed_at, true
                FROM unnest(\(placed.map(\.gig))::uuid[], \(placed.map(\.bid))::uuid[], \(placed.map(\.freelancer))::uuid[],
                            \(placed.map(\.amount))::int8[], \(placed.map(\.at))::timestamptz[]) AS b(gig_id, bid_id, freelancer_id, amount, placed_at)
                ON CONFLICT (gig_id, bid_id) DO NOTHING
                """)
        }
        if !revised.isEmpty {
            let entries = revised.entries
            try await connection.execute(
                """
                UPDATE competition_bids_v1 b SET amount_minor = r.amount
                FROM unnest(\(entries.map { $0.key[0] })::uuid[], \(entries.map { $0.key[1] })::uuid[], \(entries.map(\.value))::int8[])
                     AS r(gig_id, bid_id, amount)
                WHERE b.gig_id = r.gig_id AND b.bid_id = r.bid_id AND b.amount_minor <> r.amount
                """)
        }
        if !dropped.isEmpty {
            let keys = dropped.keys
            try await connection.execute(
                """
                UPDATE competition_bids_v1 b SET live = false
                FROM unnest(\(keys.map { $0[0] })::uuid[], \(keys.map { $0[1] })::uuid[]) AS d(gig_id, bid_id)
                WHERE b.gig_id = d.gig_id AND b.bid_id = d.bid_id AND b.live
                """)
        }
        if !terminal.isEmpty {
            let entries = terminal.entries
            try await connection.execute(
                """
                UPDATE competition_bids_v1 SET live = false WHERE gig_id = ANY(\(entries.map(\.key))::uuid[]) AND live
                """)
            try await connection.execute(
                """
                UPDATE competition_gigs_v1 g SET status = t.status
                FROM unnest(\(entries.map(\.key))::uuid[], \(entries.map(\.value))::text[]) AS t(gig_id, status)
                WHERE g.gig_id = t.gig_id AND g.status = 'open'
                """)
        }
        guard !touched.isEmpty else { return }
        try await connection.execute(
            """
            UPDATE competition_gigs_v1 g SET
                bids_total = s.total, bids_live = s.live, unique_bidders = s.bidders, first_bid_at = s.first_at,
                min_bid_minor = CASE WHEN s.total >= 5 THEN s.min_amount END,
                median_bid_minor = CASE WHEN s.total >= 5 THEN s.median END,
                max_bid_minor = CASE WHEN s.total >= 5 THEN s.max_amount END,
                median_to_budget_max = CASE WHEN s.total >= 5 AND g.budget_max_minor > 0 THEN round(s.median / g.budget_max_minor, 4) END,
                bucket = CASE WHEN s.total < 5 THEN '<5' WHEN s.total < 10 THEN '5-10' WHEN s.total < 15 THEN '10-15'
                              WHEN s.total < 20 THEN '15-20' WHEN s.total < 50 THEN '20-50' ELSE '50+' END
            FROM (
                SELECT gig_id, count(*)::int AS total, (count(*) FILTER (WHERE live))::int AS live,
                       count(DISTINCT freelancer_id)::int AS bidders, min(placed_at) AS first_at,
                       min(amount_minor) AS min_amount, max(amount_minor) AS max_amount,
                       (percentile_cont(0.5) WITHIN GROUP (ORDER BY amount_minor))::numeric(20, 1) AS median
                FROM competition_bids_v1 WHERE gig_id = ANY(\(touched.keys)::uuid[])
                GROUP BY gig_id
            ) s
            WHERE g.gig_id = s.gig_id
            """)
    }
}
