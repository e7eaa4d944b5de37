import EventStore
import Foundation
import Logging
import Marketplace
import PQ

/// The marketplace's timers, run by the `system` actor (`gigctl timers run`, e.g. from cron):
/// expires open gigs whose bidding deadline passed, and approves deliveries whose review window
/// passed. Idempotent and safe to run twice at once: each timer command has a command id derived
/// from what it acts on, so a second run's command is answered from the log and appends nothing.
public struct TimerJob: Sendable {
    public struct Report: Sendable, Codable, Hashable {
        /// Gig streams expired by this run.
        public var expiredGigs: [String] = []
        /// Contract streams whose delivery this run approved (and paid).
        public var autoApproved: [String] = []
        /// Candidates another run (or the participants) had already handled.
        public var alreadyHandled = 0
        /// Candidates that failed, with the reason; they are tried again on the next run.
        public var failures: [String] = []
    }

    public let service: MarketplaceService
    let logger: Logger

    public init(service: MarketplaceService, logger: Logger = Logger(label: "gigledger.timers")) {
        self.service = service
        self.logger = logger
    }

    /// Runs every timer that is due at `now`.
    public func run(now: Date) async throws -> Report {
        var report = Report()
        for gig in try await dueGigs(now) {
            let command = MarketplaceCommand.gig(
                .expireGig(
                    .init(
                        context: CommandContext(
                            commandID: CommandID(UUID(stableName: "expire-gig:\(gig)")), actor: .system, occurredAt: now
                        ),
                        gigID: GigID(gig))))
            await handle(command, stream: "gig-\(gig.uuidString.lowercased())", into: &report) {
                $0.expiredGigs.append($1)
            }
        }
        for (contract, delivery) in try await dueDeliveries(now) {
            let command = MarketplaceCommand.contract(
                .autoApproveDelivery(
                    .init(
                        context: CommandContext(
                            commandID: CommandID(UUID(stableName: "auto-approve:\(delivery)")), actor: .system,
                            occurredAt: now),
                        contractID: ContractID(contract), deliveryID: DeliveryID(delivery))))
            await handle(command, stream: "contract-\(contract.uuidString.lowercased())", into: &report) {
                $0.autoApproved.append($1)
            }
        }
        return report
    }

    private func handle(
        _ command: MarketplaceCommand, stream: String, into report: inout Report, done: (inout Report, String) -> Void
    ) async {
        do {
            let outcome = try await service.execute(command)
            if outcome.duplicate || outcome.changedNothing { report.alreadyHandled += 1 } else { done(&report, stream) }
        } catch {
            logger.warning("timer command failed", metadata: ["timer.stream": "\(stream)", "timer.error": "\(error)"])
            report.failures.append("\(stream): \(error)")
        }
    }

    /// Open gigs (no award, not closed) whose bidding closed at or before `now`.
    func dueGigs(_ now: Date) async throws -> [UUID] {
        let rows = try await service.store.pool.query(
            """
            SELECT (posted.data->>'gigId')::uuid AS gig
            FROM ledger.events posted
            WHERE posted.event_type = 'GigPosted'
              AND (posted.data->>'biddingClosesAt')::timestamptz <= \(now)
              AND NOT EXISTS (
                  SELECT 1 FROM ledger.events later
                  WHERE later.stream_id = posted.stream_id AND later.event_type IN ('GigClosed', 'BidAccepted'))
            ORDER BY posted.global_position
            """)
        return try rows.rows.map { try $0.decode(UUID.self, at: 0) }
    }

    /// Deliveries still pending review whose window (from the contract's terms) ended by `now`.
    func dueDeliveries(_ now: Date) async throws -> [(UUID, UUID)] {
        let rows = try await service.store.pool.query(
            """
            SELECT (delivered.data->>'contractId')::uuid AS contract, (delivered.data->>'deliveryId')::uuid AS delivery
            FROM ledger.events delivered
            JOIN ledger.events started
              ON started.stream_id = delivered.stream_id AND started.event_type = 'ContractStarted'
            WHERE delivered.event_type = 'DeliverySubmitted'
              AND (delivered.data->>'submittedAt')::timestamptz
                  + make_interval(days => (started.data->>'reviewWindowDays')::int) <= \(now)
              AND NOT EXISTS (
                  SELECT 1 FROM ledger.events later
                  WHERE later.stream_id = delivered.stream_id AND later.stream_version > delivered.stream_version
                    AND later.event_type IN ('DeliveryApproved', 'ChangesRequested', 'DisputeOpened',
                                             'ContractCancelled', 'ContractCompleted', 'DeliverySubmitted'))
            ORDER BY delivered.global_position
            """)
        return try rows.rows.map { (try $0.decode(UUID.self, at: 0), try $0.decode(UUID.self, at: 1)) }
    }
}
