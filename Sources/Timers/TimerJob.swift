import EventStore
import Foundation
import GigLedger
import Logging
import Marketplace
import PQ
import Projections

/// The marketplace's timers, run by the `system` actor (`gigctl timers run`, e.g. from cron):
/// expires open gigs whose bidding deadline passed, and approves deliveries whose review window
/// passed.
///
/// What is due comes from the timers read model (``DueTimers``, kept by ``TimersProjector``), so a
/// run costs what is due, not the length of the log; the projection daemon must be running for
/// new timers to appear there. A row is only a hint: each timer is the domain's own command, and
/// the domain decides — a gig or contract that moved on since the row was written (the read model
/// lags the log) yields no event and counts as already handled. Idempotent and safe to run twice at
/// once: each timer command has a command id derived from what it acts on, so a second run's
/// command is answered from the log and appends nothing.
///
/// It lives in a module of its own, above both the command side (`GigLedger`) and the read side
/// (`Projections`): it reads a read model and sends commands, so neither of the two needs to
/// depend on the other.
public struct TimerJob: Sendable {
    /// What one ``TimerJob/run(now:)`` did. Streams are named as in the log (`gig-<uuid>`,
    /// `contract-<uuid>`).
    public struct Report: Sendable, Codable, Hashable {
        /// Gig streams expired by this run.
        public var expiredGigs: [String] = []
        /// Contract streams whose delivery this run approved (and paid).
        public var autoApproved: [String] = []
        /// Candidates another run (or the participants) had already handled.
        public var alreadyHandled = 0
        /// Candidates that failed, with the reason; they are tried again on the next run.
        public var failures: [String] = []
        /// The timers read model this run read: its projector's state, checkpoint and lag.
        public var readModel = ReadModel()

        /// The state of the timers read model when the run read it.
        public struct ReadModel: Sendable, Codable, Hashable {
            /// The timers projector's state in `read_models.projection_status` (`running`,
            /// `failed`, …).
            public var state = ""
            /// The last log position the read model had applied.
            public var checkpointPosition: Int64 = 0
            /// How many events of the log the read model had not applied yet; timers those events
            /// create are found by a later run.
            public var lagEvents: Int64 = 0
        }
    }

    /// The command handler the timer commands are sent through; its store's pool is also where the
    /// read model is read.
    public let service: MarketplaceService
    let logger: Logger

    /// Creates a job that sends its commands through `service` and logs failed timers to `logger`
    /// at warning level.
    public init(service: MarketplaceService, logger: Logger = Logger(label: "gigledger.timers")) {
        self.service = service
        self.logger = logger
    }

    /// Runs every timer that the read model says is due at `now`.
    public func run(now: Date) async throws -> Report {
        let due = try await DueTimers(pool: service.store.pool).due(at: now)
        var report = Report()
        report.readModel = .init(
            state: due.state, checkpointPosition: due.checkpointPosition, lagEvents: due.lagEvents)
        for timer in due.timers {
            switch timer.kind {
            case .gigExpiry:
                let gig = timer.subjectID
                let command = MarketplaceCommand.gig(
                    .expireGig(
                        .init(
                            context: CommandContext(
                                commandID: CommandID(UUID(stableName: "expire-gig:\(gig)")), actor: .system,
                                occurredAt: now),
                            gigID: GigID(gig))))
                await handle(command, stream: "gig-\(gig.uuidString.lowercased())", into: &report) {
                    $0.expiredGigs.append($1)
                }
            case .deliveryReview:
                let contract = timer.subjectID
                let stream = "contract-\(contract.uuidString.lowercased())"
                guard let delivery = timer.deliveryID else {
                    report.failures.append("\(stream): the read model's review timer names no delivery")
                    continue
                }
                let command = MarketplaceCommand.contract(
                    .autoApproveDelivery(
                        .init(
                            context: CommandContext(
                                commandID: CommandID(UUID(stableName: "auto-approve:\(delivery)")), actor: .system,
                                occurredAt: now),
                            contractID: ContractID(contract), deliveryID: DeliveryID(delivery))))
                await handle(command, stream: stream, into: &report) { $0.autoApproved.append($1) }
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
}
