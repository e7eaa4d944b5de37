import EventStore
import Foundation
import Marketplace
import PQ

/// The marketplace's timers as a read model: for each gig, when its bidding deadline passes while
/// it is open; for each contract, when the review window of its delivery awaiting review ends.
/// `gigctl timers run` reads what is due from here (through ``DueTimers``), so a run costs what is
/// due, not the length of the log.
///
/// Table (version 1): `read_models.timers_v1`, one row per gig (`kind = 'gig_expiry'`) and per
/// contract (`kind = 'delivery_review'`), kept after the timer is settled (`due_at` NULL) so that
/// re-applied events find the row and change nothing. `due_at` is indexed where it is not NULL:
/// - gig: the gig's `biddingClosesAt` from `GigPosted`; NULL once `BidAccepted` or `GigClosed`;
/// - contract: the pending delivery's `submittedAt` + the contract's `reviewWindowDays` from
///   `DeliverySubmitted`; NULL once `ChangesRequested`, `DeliveryApproved`, `ContractCompleted` or
///   `ContractCancelled`, and while a dispute is open (`on_hold`; a dispute resolved with
///   `resumeWork` puts the window back, as the domain returns the contract to where it stood).
///
/// Every row carries the version of the last event of its stream applied to it, and a write
/// never replaces a row with one from an older or equal version: re-applying a suffix of the log
/// or a stream's events changes nothing. The row is only a hint: the job sends the domain's
/// timer command and the domain decides (a stale row yields no event). Deterministic: business
/// times only.
public struct TimersProjector: MarketplaceProjector {
    /// Its name in `ledger.projections`, the status and the read checkpoints.
    public let name = "timers"
    /// Read-model version 1: the `_v1` of its tables.
    public let version = 1
    /// The tables it writes (in `read_models`).
    public let tables = ["timers_v1"]
    /// The event types it reads (the domain's own constants); it ignores every other type.
    public let eventTypes = gigEvents.union(contractEvents)
    /// Where its events are decoded (``EventRegistry/marketplace`` unless a test gives another).
    public let registry: EventRegistry
    /// A projector decoding its events through `registry`.
    public init(registry: EventRegistry = .marketplace) { self.registry = registry }

    /// Creates `timers_v1` and its partial index on `due_at` if missing (idempotent).
    public func prepare(on connection: Connection) async throws {
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS timers_v1 (
                kind               text        NOT NULL,
                subject_id         uuid        NOT NULL,
                delivery_id        uuid,
                due_at             timestamptz,
                review_window_days integer,
                review_ends_at     timestamptz,
                on_hold            boolean     NOT NULL DEFAULT false,
                stream_version     bigint      NOT NULL,
                CONSTRAINT timers_v1_pkey PRIMARY KEY (kind, subject_id),
                CONSTRAINT timers_v1_kind CHECK (kind IN ('gig_expiry', 'delivery_review'))
            )
            """)
        try await connection.execute(
            "CREATE INDEX IF NOT EXISTS timers_v1_due ON timers_v1 (due_at) WHERE due_at IS NOT NULL")
    }

    /// Applies one event, as a batch of one (``apply(batch:on:)``).
    public func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        try await apply(batch: [event], on: connection)
    }

    static let gigEvents: Set<String> = [
        GigEvent.GigPosted.eventType, GigEvent.BidAccepted.eventType, GigEvent.GigClosed.eventType,
    ]
    static let contractEvents: Set<String> = [
        ContractEvent.ContractStarted.eventType, ContractEvent.DeliverySubmitted.eventType,
        ContractEvent.ChangesRequested.eventType, ContractEvent.DeliveryApproved.eventType,
        ContractEvent.DisputeOpened.eventType, ContractEvent.DisputeResolved.eventType,
        ContractEvent.ContractCompleted.eventType, ContractEvent.ContractCancelled.eventType,
    ]

    /// One row of `timers_v1`.
    struct Timer: Equatable {
        var deliveryID: UUID?
        var reviewWindowDays: Int?
        var reviewEndsAt: Date?
        var onHold = false
        var closesAt: Date?
        var version: Int64
        func dueAt(_ kind: String) -> Date? { kind == "gig_expiry" ? closesAt : (onHold ? nil : reviewEndsAt) }
    }

    struct Key: Hashable {
        let kind: String
        let subject: UUID
    }

    /// Set-based: one read of the rows of the gigs and contracts the batch touches, a fold in
    /// Swift (events at or below a row's version are skipped), one keyed upsert that only ever
    /// moves a row to a newer version.
    public func apply(batch events: [RecordedEvent], on connection: Connection) async throws {
        var relevant: [(event: RecordedEvent, key: Key, data: MarketplaceEvent)] = []
        for event in events where eventTypes.contains(event.type) {
            let data = try event.decoded(with: registry)
            let key: Key
            switch data {
            case .gig(.gigPosted(let p)): key = Key(kind: "gig_expiry", subject: p.gigID.uuid)
            case .gig(.bidAccepted(let p)): key = Key(kind: "gig_expiry", subject: p.gigID.uuid)
            case .gig(.gigClosed(let p)): key = Key(kind: "gig_expiry", subject: p.gigID.uuid)
            case .contract(let contract):
                guard let id = Self.contractID(of: contract) else { continue }
                key = Key(kind: "delivery_review", subject: id.uuid)
            default: continue
            }
            relevant.append((event, key, data))
        }
        guard !relevant.isEmpty else { return }

        var keys = LastWins<Key, Bool>()
        for item in relevant { keys.set(item.key, true) }
        var rows: [Key: Timer] = [:]
        for row in try await connection.query(
            """
            SELECT t.kind, t.subject_id, t.delivery_id, t.review_window_days, t.review_ends_at, t.on_hold,
                   t.due_at, t.stream_version
            FROM timers_v1 t
            JOIN unnest(\(keys.keys.map(\.kind))::text[], \(keys.keys.map(\.subject))::uuid[]) AS k(kind, subject_id)
              ON t.kind = k.kind AND t.subject_id = k.subject_id
            """
        ).rows {
            let key = Key(kind: try row.decode(String.self, at: 0), subject: try row.decode(UUID.self, at: 1))
            rows[key] = Timer(
                deliveryID: try row.decode(UUID?.self, at: 2), reviewWindowDays: try row.decode(Int?.self, at: 3),
                reviewEndsAt: try row.decode(Date?.self, at: 4), onHold: try row.decode(Bool.self, at: 5),
                closesAt: key.kind == "gig_expiry" ? try row.decode(Date?.self, at: 6) : nil,
                version: try row.decode(Int64.self, at: 7))
        }
        let stored = rows

        for (event, key, data) in relevant {
            if let row = rows[key], row.version >= event.version { continue }
            var row = rows[key] ?? Timer(version: event.version)
            row.version = event.version
            switch data {
            case .gig(.gigPosted(let p)):
                row.closesAt = p.biddingClosesAt
            case .gig(.bidAccepted), .gig(.gigClosed):
                row.closesAt = nil
            case .contract(.contractStarted(let p)):
                row.reviewWindowDays = p.reviewWindowDays
            case .contract(.deliverySubmitted(let p)):
                guard let days = row.reviewWindowDays else {
                    throw UnhandledEvent(event: event, reason: "DeliverySubmitted without a ContractStarted before it")
                }
                row.deliveryID = p.deliveryID.uuid
                row.reviewEndsAt = p.submittedAt.addingTimeInterval(Double(days) * 86_400)
            case .contract(.disputeOpened):
                row.onHold = true
            case .contract(.disputeResolved(let p)):
                row.onHold = false
                if p.resolution != .resumeWork { (row.deliveryID, row.reviewEndsAt) = (nil, nil) }
            default:  // ChangesRequested, DeliveryApproved, ContractCompleted, ContractCancelled
                (row.deliveryID, row.reviewEndsAt, row.onHold) = (nil, nil, false)
            }
            rows[key] = row
        }

        let changed = keys.keys.compactMap { key in rows[key].flatMap { $0 == stored[key] ? nil : (key, $0) } }
        guard !changed.isEmpty else { return }
        func text(_ date: Date?) -> String { date?.pgText ?? "" }
        try await connection.execute(
            """
            INSERT INTO timers_v1 AS t
                (kind, subject_id, delivery_id, due_at, review_window_days, review_ends_at, on_hold, stream_version)
            SELECT u.kind, u.subject_id, NULLIF(u.delivery_id, '')::uuid, NULLIF(u.due_at, '')::timestamptz,
                   NULLIF(u.review_window_days, -1), NULLIF(u.review_ends_at, '')::timestamptz, u.on_hold, u.stream_version
            FROM unnest(\(changed.map(\.0.kind))::text[], \(changed.map(\.0.subject))::uuid[],
                        \(changed.map { $0.1.deliveryID?.uuidString ?? "" })::text[],
                        \(changed.map { text($0.1.dueAt($0.0.kind)) })::text[],
                        \(changed.map { Int32(clamping: $0.1.reviewWindowDays ?? -1) })::int4[],
                        \(changed.map { text($0.1.reviewEndsAt) })::text[], \(changed.map(\.1.onHold))::bool[],
                        \(changed.map(\.1.version))::int8[])
                 AS u(kind, subject_id, delivery_id, due_at, review_window_days, review_ends_at, on_hold, stream_version)
            ON CONFLICT (kind, subject_id) DO UPDATE SET
                delivery_id = excluded.delivery_id, due_at = excluded.due_at,
                review_window_days = excluded.review_window_days, review_ends_at = excluded.review_ends_at,
                on_hold = excluded.on_hold, stream_version = excluded.stream_version
            WHERE t.stream_version < excluded.stream_version
            """)
    }

    /// The contract of a contract event the timers read.
    static func contractID(of event: ContractEvent) -> ContractID? {
        switch event {
        case .contractStarted(let p): p.contractID
        case .deliverySubmitted(let p): p.contractID
        case .changesRequested(let p): p.contractID
        case .deliveryApproved(let p): p.contractID
        case .disputeOpened(let p): p.contractID
        case .disputeResolved(let p): p.contractID
        case .contractCompleted(let p): p.contractID
        case .contractCancelled(let p): p.contractID
        default: nil
        }
    }
}
