import Foundation

/// A request to change a contract's stream (`contract-<id>`).
///
/// Contracts are started by ``GigCommand/acceptBid(_:)``, never by a contract command. Every
/// command on a contract that was never started fails with
/// ``DomainError/Code/contractNotFound``.
public enum ContractCommand: Hashable, Sendable {
    case submitDelivery(SubmitDelivery)
    case requestChanges(RequestChanges)
    case approveDelivery(ApproveDelivery)
    case autoApproveDelivery(AutoApproveDelivery)
    case openDispute(OpenDispute)
    case resolveDispute(ResolveDispute)
    case submitReview(SubmitReview)
    case cancelContract(CancelContract)

    /// Submits delivery ``deliveryID`` for review. Actor: the contract's freelancer.
    ///
    /// Needs an active contract with no delivery pending. Repeating it (same delivery id, note and
    /// artifacts) decides nothing; reusing the delivery id otherwise fails with
    /// ``DomainError/Code/idInUse``.
    public struct SubmitDelivery: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The contract; its stream decides the command.
        public var contractID: ContractID
        /// A new id, chosen by the caller.
        public var deliveryID: DeliveryID
        /// Up to 5000 characters; newline and tab allowed.
        public var note: String
        /// Up to 20 references (URLs or storage keys), each 1–2000 characters on one line.
        public var artifacts: [String]

        /// A `SubmitDelivery` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(
            context: CommandContext, contractID: ContractID, deliveryID: DeliveryID, note: String, artifacts: [String]
        ) {
            self.context = context
            self.contractID = contractID
            self.deliveryID = deliveryID
            self.note = note
            self.artifacts = artifacts
        }
    }

    /// Sends the pending delivery back with a reason. Actor: the contract's client
    /// (`NOT_CONTRACT_CLIENT`). Repeating it for a delivery already sent back decides nothing (the
    /// first reason stands). Fails with `NO_PENDING_DELIVERY` for an unknown delivery or one not
    /// awaiting review, and `CONTRACT_DISPUTED` while a dispute is open.
    ///
    /// The client may act until the review timer has approved the delivery, even after the window
    /// passed: whichever append wins the stream version decides.
    public struct RequestChanges: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The contract; its stream decides the command.
        public var contractID: ContractID
        /// The delivery, one of the contract's.
        public var deliveryID: DeliveryID
        /// 1–2000 characters; newline and tab allowed.
        public var reason: String

        /// A `RequestChanges` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, contractID: ContractID, deliveryID: DeliveryID, reason: String) {
            self.context = context
            self.contractID = contractID
            self.deliveryID = deliveryID
            self.reason = reason
        }
    }

    /// Approves the pending delivery: decides `DeliveryApproved`, `PaymentReleased` (see
    /// ``Invoice``) and `ContractCompleted`. Actor: the contract's client (`NOT_CONTRACT_CLIENT`).
    /// Approving an approved delivery decides nothing. Fails like ``RequestChanges`` otherwise.
    public struct ApproveDelivery: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The contract; its stream decides the command.
        public var contractID: ContractID
        /// The delivery, one of the contract's.
        public var deliveryID: DeliveryID

        /// An `ApproveDelivery` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, contractID: ContractID, deliveryID: DeliveryID) {
            self.context = context
            self.contractID = contractID
            self.deliveryID = deliveryID
        }
    }

    /// The review timer: approves a delivery still pending once its review window
    /// (``ContractTerms/reviewWindowDays`` after `submittedAt`) has passed. Actor: `.system`.
    ///
    /// Safe to run twice: a delivery already approved, sent back, or frozen by a dispute (or a
    /// contract that ended) decides nothing, since the timer's work is done or moot. A timer
    /// firing before the window passed fails with ``DomainError/Code/reviewWindowOpen``; an
    /// unknown delivery id with ``DomainError/Code/noPendingDelivery``.
    public struct AutoApproveDelivery: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The contract; its stream decides the command.
        public var contractID: ContractID
        /// The delivery, one of the contract's.
        public var deliveryID: DeliveryID

        /// An `AutoApproveDelivery` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, contractID: ContractID, deliveryID: DeliveryID) {
            self.context = context
            self.contractID = contractID
            self.deliveryID = deliveryID
        }
    }

    /// Opens dispute ``disputeID`` on an active or delivered (unpaid) contract. Actor: either
    /// party, or an admin. Repeating it decides nothing; a second dispute while one is open fails
    /// with ``DomainError/Code/nothingToDispute``.
    public struct OpenDispute: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The contract; its stream decides the command.
        public var contractID: ContractID
        /// A new id, chosen by the caller.
        public var disputeID: DisputeID
        /// 1–2000 characters; newline and tab allowed.
        public var reason: String

        /// An `OpenDispute` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, contractID: ContractID, disputeID: DisputeID, reason: String) {
            self.context = context
            self.contractID = contractID
            self.disputeID = disputeID
            self.reason = reason
        }
    }

    /// Resolves the open dispute ``disputeID``. Actor: an admin. `payFreelancer` also decides
    /// `PaymentReleased` and `ContractCompleted`; `refundClient` decides `ContractCancelled`.
    /// Repeating it with the same resolution decides nothing.
    public struct ResolveDispute: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The contract; its stream decides the command.
        public var contractID: ContractID
        /// The open dispute.
        public var disputeID: DisputeID
        /// Resume work, pay the freelancer, or refund the client.
        public var resolution: DisputeResolution
        /// Up to 2000 characters, shown to both parties; newline and tab allowed.
        public var note: String

        /// A `ResolveDispute` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(
            context: CommandContext, contractID: ContractID, disputeID: DisputeID, resolution: DisputeResolution,
            note: String
        ) {
            self.context = context
            self.contractID = contractID
            self.disputeID = disputeID
            self.resolution = resolution
            self.note = note
        }
    }

    /// Reviews the other party once the contract has ended (completed or cancelled). Actor:
    /// either party; the author's side follows from the actor. One review per side: the same
    /// review again decides nothing, a different one fails with
    /// ``DomainError/Code/duplicateReview``.
    public struct SubmitReview: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The contract; its stream decides the command.
        public var contractID: ContractID
        /// 1–5.
        public var rating: Int
        /// Up to 2000 characters; newline and tab allowed.
        public var text: String

        /// A `SubmitReview` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, contractID: ContractID, rating: Int, text: String) {
            self.context = context
            self.contractID = contractID
            self.rating = rating
            self.text = text
        }
    }

    /// Cancels a contract before any delivery is pending: nothing is paid, and both sides may
    /// then review. Actor: either party, or an admin.
    ///
    /// Needs an active contract (no delivery awaiting review, no open dispute, not ended); else
    /// ``DomainError/Code/contractNotActive``. Anyone else fails with
    /// ``DomainError/Code/notAllowed``. Repeating it on a cancelled contract decides nothing.
    public struct CancelContract: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The contract; its stream decides the command.
        public var contractID: ContractID

        /// A `CancelContract` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, contractID: ContractID) {
            self.context = context
            self.contractID = contractID
        }
    }

    /// The command's id, actor and time.
    public var context: CommandContext {
        switch self {
        case .submitDelivery(let command): command.context
        case .requestChanges(let command): command.context
        case .approveDelivery(let command): command.context
        case .autoApproveDelivery(let command): command.context
        case .openDispute(let command): command.context
        case .resolveDispute(let command): command.context
        case .submitReview(let command): command.context
        case .cancelContract(let command): command.context
        }
    }

    /// The contract whose stream the command changes.
    public var contractID: ContractID {
        switch self {
        case .submitDelivery(let command): command.contractID
        case .requestChanges(let command): command.contractID
        case .approveDelivery(let command): command.contractID
        case .autoApproveDelivery(let command): command.contractID
        case .openDispute(let command): command.contractID
        case .resolveDispute(let command): command.contractID
        case .submitReview(let command): command.contractID
        case .cancelContract(let command): command.contractID
        }
    }

    /// The stream to load and append to.
    public var stream: MarketplaceStream { contractID.stream }
}
