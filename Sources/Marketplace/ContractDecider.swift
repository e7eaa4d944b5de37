import Foundation

/// Decides and applies contract events: deliveries, approval and payment, disputes, reviews.
///
/// Rules, repeat behaviour and error codes are documented on each ``ContractCommand`` case.
public enum ContractDecider: Decider {
    /// Before the stream's first event: no contract started.
    public static let initialState = ContractState.notStarted

    /// The events `command` causes.
    public static func decide(_ command: ContractCommand, _ state: ContractState) throws(DomainError) -> [ContractEvent]
    {
        try Validate.context(command.context)
        guard let contract = state.contract else {
            throw DomainError(
                .contractNotFound, "Contract \(command.contractID) has not been started: check the contract id.")
        }
        switch command {
        case .submitDelivery(let submit): return try decideSubmit(submit, contract)
        case .requestChanges(let request): return try decideRequestChanges(request, contract)
        case .approveDelivery(let approve): return try decideApprove(approve, contract)
        case .autoApproveDelivery(let approve): return try decideAutoApprove(approve, contract)
        case .openDispute(let open): return try decideOpenDispute(open, contract)
        case .resolveDispute(let resolve): return try decideResolveDispute(resolve, contract)
        case .submitReview(let review): return try decideReview(review, contract)
        case .cancelContract(let cancel): return try decideCancel(cancel, contract)
        }
    }

    private static func decideCancel(
        _ command: ContractCommand.CancelContract, _ contract: ContractRecord
    ) throws(DomainError) -> [ContractEvent] {
        let actor = command.context.actor
        let isParty = actor == .client(contract.clientID) || actor == .freelancer(contract.freelancerID)
        var isAdmin = false
        if case .admin = actor { isAdmin = true }
        guard isParty || isAdmin else {
            throw DomainError(
                .notAllowed, "Only the client or the freelancer of contract \(contract.id), or an admin, may cancel it."
            )
        }
        if contract.status == .cancelled { return [] }
        guard contract.status == .active else {
            throw DomainError(
                .contractNotActive,
                "Contract \(contract.id) cannot be cancelled now: a delivery is pending, a dispute is open, or it has ended. Resolve that first (or open a dispute)."
            )
        }
        return [.contractCancelled(.init(contractID: contract.id, cancelledBy: actor))]
    }

    /// Applies `event`; events that do not fit the state are ignored.
    public static func evolve(_ state: ContractState, _ event: ContractEvent) -> ContractState {
        guard case .started(var contract) = state else {
            if case .contractStarted(let start) = event { return .started(ContractRecord(start)) }
            return state
        }
        switch event {
        case .contractStarted:
            return state
        case .deliverySubmitted(let submitted):
            guard contract.deliveries[submitted.deliveryID] == nil else { return state }
            contract.deliveries[submitted.deliveryID] = Delivery(submitted)
            contract.status = .delivered(submitted.deliveryID)
        case .changesRequested(let requested):
            contract.deliveries[requested.deliveryID]?.status = .changesRequested(requested.reason)
            if contract.status == .delivered(requested.deliveryID) { contract.status = .active }
        case .deliveryApproved(let approved):
            contract.deliveries[approved.deliveryID]?.status = .approved(approved.approvedBy)
            contract.status = .settling
        case .paymentReleased(let payment):
            contract.payment = payment
        case .disputeOpened(let opened):
            guard contract.disputes[opened.disputeID] == nil else { return state }
            contract.disputes[opened.disputeID] = Dispute(opened, statusBefore: contract.status)
            contract.status = .disputed(opened.disputeID)
        case .disputeResolved(let resolved):
            guard var dispute = contract.disputes[resolved.disputeID] else { return state }
            dispute.resolution = resolved.resolution
            contract.disputes[resolved.disputeID] = dispute
            contract.status = resolved.resolution == .resumeWork ? dispute.statusBefore : .settling
        case .contractCompleted:
            contract.status = .completed
        case .contractCancelled:
            contract.status = .cancelled
        case .reviewSubmitted(let review):
            contract.reviews[review.authorSide] = review
        }
        return .started(contract)
    }

    // MARK: - Deliveries

    private static func decideSubmit(
        _ command: ContractCommand.SubmitDelivery, _ contract: ContractRecord
    ) throws(DomainError) -> [ContractEvent] {
        guard command.context.actor == .freelancer(contract.freelancerID) else {
            throw DomainError(
                .notContractFreelancer, "Only the freelancer of contract \(contract.id) may submit deliveries for it.")
        }
        if let existing = contract.deliveries[command.deliveryID] {
            // Note and artifacts as the handler's fold opened them (erased: the id decides).
            guard PersonalData.matches(existing.submission.note, command.note),
                PersonalData.matches(existing.submission.artifacts, command.artifacts)
            else {
                throw DomainError(
                    .idInUse,
                    "Delivery \(command.deliveryID) was already submitted with other content: use a new delivery id.")
            }
            return []
        }
        switch contract.status {
        case .active: break
        case .delivered(let pending):
            throw DomainError(
                .deliveryPending,
                "Delivery \(pending) of contract \(contract.id) awaits review: wait for approval or a change request.")
        case .disputed, .settling, .completed, .cancelled:
            throw DomainError(
                .contractNotActive, "Contract \(contract.id) is \(describe(contract.status)): it takes no deliveries.")
        }
        try Validate.text(
            command.note, field: "note", length: 0...MarketplaceLimits.maximumDescriptionLength, multiline: true)
        guard command.artifacts.count <= MarketplaceLimits.maximumArtifacts else {
            throw DomainError(
                .invalidInput,
                "artifacts lists \(command.artifacts.count) references; at most \(MarketplaceLimits.maximumArtifacts) are allowed: bundle them."
            )
        }
        for (index, artifact) in command.artifacts.enumerated() {
            try Validate.text(
                artifact, field: "artifacts[\(index)]", length: MarketplaceLimits.artifactReferenceLength,
                multiline: false)
        }
        return [
            .deliverySubmitted(
                .init(
                    contractID: contract.id, deliveryID: command.deliveryID, note: command.note,
                    artifacts: command.artifacts, submittedAt: command.context.occurredAt))
        ]
    }

    private static func decideRequestChanges(
        _ command: ContractCommand.RequestChanges, _ contract: ContractRecord
    ) throws(DomainError) -> [ContractEvent] {
        try requireClient(command.context, of: contract, doing: "request changes")
        let delivery = try pendingCandidate(command.deliveryID, of: contract)
        if case .changesRequested = delivery.status { return [] }
        try requirePending(delivery, of: contract)
        try Validate.text(
            command.reason, field: "reason", length: 1...MarketplaceLimits.maximumReviewTextLength, multiline: true)
        return [.changesRequested(.init(contractID: contract.id, deliveryID: delivery.id, reason: command.reason))]
    }

    private static func decideApprove(
        _ command: ContractCommand.ApproveDelivery, _ contract: ContractRecord
    ) throws(DomainError) -> [ContractEvent] {
        try requireClient(command.context, of: contract, doing: "approve deliveries")
        let delivery = try pendingCandidate(command.deliveryID, of: contract)
        if case .approved = delivery.status { return [] }
        try requirePending(delivery, of: contract)
        return try approval(of: delivery, in: contract, by: command.context.actor, at: command.context.occurredAt)
    }

    private static func decideAutoApprove(
        _ command: ContractCommand.AutoApproveDelivery, _ contract: ContractRecord
    ) throws(DomainError) -> [ContractEvent] {
        guard command.context.actor == .system else {
            throw DomainError(.notAllowed, "Only the system's review timer may auto-approve deliveries.")
        }
        let delivery = try pendingCandidate(command.deliveryID, of: contract)
        guard contract.status == .delivered(delivery.id) else { return [] }
        let windowEnds = delivery.submission.submittedAt.addingTimeInterval(
            Double(contract.terms.reviewWindowDays) * 86_400)
        guard command.context.occurredAt >= windowEnds else {
            throw DomainError(
                .reviewWindowOpen,
                "The \(contract.terms.reviewWindowDays)-day review window of delivery \(delivery.id) has not passed at the command's time: run the timer after it ends."
            )
        }
        return try approval(of: delivery, in: contract, by: .system, at: command.context.occurredAt)
    }

    // MARK: - Disputes

    private static func decideOpenDispute(
        _ command: ContractCommand.OpenDispute, _ contract: ContractRecord
    ) throws(DomainError) -> [ContractEvent] {
        let actor = command.context.actor
        switch actor {
        case .client(contract.clientID), .freelancer(contract.freelancerID), .admin: break
        default:
            throw DomainError(
                .notAllowed, "Only the parties of contract \(contract.id), or an admin, may open a dispute on it.")
        }
        if let existing = contract.disputes[command.disputeID] {
            // The reason as the handler's fold opened it (erased: the facts decide).
            guard existing.opening.openedBy == actor, PersonalData.matches(existing.opening.reason, command.reason)
            else {
                throw DomainError(
                    .idInUse, "Dispute \(command.disputeID) was already opened differently: use a new dispute id.")
            }
            return []
        }
        switch contract.status {
        case .active, .delivered: break
        case .disputed, .settling, .completed, .cancelled:
            throw DomainError(
                .nothingToDispute,
                "Contract \(contract.id) is \(describe(contract.status)): only an active or delivered, unpaid contract can be disputed."
            )
        }
        try Validate.text(
            command.reason, field: "reason", length: 1...MarketplaceLimits.maximumReviewTextLength, multiline: true)
        return [
            .disputeOpened(
                .init(contractID: contract.id, disputeID: command.disputeID, openedBy: actor, reason: command.reason))
        ]
    }

    private static func decideResolveDispute(
        _ command: ContractCommand.ResolveDispute, _ contract: ContractRecord
    ) throws(DomainError) -> [ContractEvent] {
        guard case .admin = command.context.actor else {
            throw DomainError(.notAllowed, "Only an admin may resolve disputes.")
        }
        guard let dispute = contract.disputes[command.disputeID] else {
            throw DomainError(
                .nothingToDispute, "Contract \(contract.id) has no dispute \(command.disputeID): check the dispute id.")
        }
        if let resolution = dispute.resolution {
            guard resolution == command.resolution else {
                throw DomainError(
                    .nothingToDispute,
                    "Dispute \(dispute.id) was already resolved as \(resolution.rawValue): a resolution is final.")
            }
            return []
        }
        try Validate.text(
            command.note, field: "note", length: 0...MarketplaceLimits.maximumReviewTextLength, multiline: true)
        let resolved = ContractEvent.disputeResolved(
            .init(
                contractID: contract.id, disputeID: dispute.id, resolvedBy: command.context.actor,
                resolution: command.resolution, note: command.note))
        switch command.resolution {
        case .resumeWork:
            return [resolved]
        case .payFreelancer:
            let payment = try Invoice.payment(for: contract, issuedAt: command.context.occurredAt)
            return [resolved, .paymentReleased(payment), .contractCompleted(.init(contractID: contract.id))]
        case .refundClient:
            return [resolved, .contractCancelled(.init(contractID: contract.id, cancelledBy: command.context.actor))]
        }
    }

    // MARK: - Reviews

    private static func decideReview(
        _ command: ContractCommand.SubmitReview, _ contract: ContractRecord
    ) throws(DomainError) -> [ContractEvent] {
        let side: ContractSide
        switch command.context.actor {
        case .client(contract.clientID): side = .client
        case .freelancer(contract.freelancerID): side = .freelancer
        default: throw DomainError(.notAllowed, "Only the parties of contract \(contract.id) may review it.")
        }
        guard contract.hasEnded else {
            throw DomainError(
                .contractNotEnded,
                "Contract \(contract.id) is \(describe(contract.status)): review it once it has completed or been cancelled."
            )
        }
        if let existing = contract.reviews[side] {
            // The text as the handler's fold opened it (erased: the rating decides).
            guard existing.rating == command.rating, PersonalData.matches(existing.text, command.text) else {
                throw DomainError(
                    .duplicateReview,
                    "The \(side.rawValue) of contract \(contract.id) already reviewed it: a review cannot be changed.")
            }
            return []
        }
        guard MarketplaceLimits.rating.contains(command.rating) else {
            throw DomainError(.invalidRating, "rating must be 1 to 5 stars; it is \(command.rating).")
        }
        try Validate.text(
            command.text, field: "text", length: 0...MarketplaceLimits.maximumReviewTextLength, multiline: true)
        return [
            .reviewSubmitted(
                .init(contractID: contract.id, authorSide: side, rating: command.rating, text: command.text))
        ]
    }

    // MARK: - Helpers

    private static func requireClient(_ context: CommandContext, of contract: ContractRecord, doing action: String)
        throws(DomainError)
    {
        guard context.actor == .client(contract.clientID) else {
            throw DomainError(.notContractClient, "Only the client of contract \(contract.id) may \(action).")
        }
    }

    /// The delivery named by a command that acts on a pending delivery.
    private static func pendingCandidate(_ deliveryID: DeliveryID, of contract: ContractRecord) throws(DomainError)
        -> Delivery
    {
        guard let delivery = contract.deliveries[deliveryID] else {
            throw DomainError(
                .noPendingDelivery, "Contract \(contract.id) has no delivery \(deliveryID): check the delivery id.")
        }
        return delivery
    }

    private static func requirePending(_ delivery: Delivery, of contract: ContractRecord) throws(DomainError) {
        if case .disputed(let dispute) = contract.status {
            throw DomainError(
                .contractDisputed,
                "Contract \(contract.id) is under dispute \(dispute): wait for an admin to resolve it.")
        }
        guard contract.status == .delivered(delivery.id) else {
            throw DomainError(
                .noPendingDelivery, "Delivery \(delivery.id) of contract \(contract.id) is not awaiting review.")
        }
    }

    private static func approval(
        of delivery: Delivery, in contract: ContractRecord, by actor: ActorRef, at time: Date
    ) throws(DomainError) -> [ContractEvent] {
        let payment = try Invoice.payment(for: contract, issuedAt: time)
        return [
            .deliveryApproved(.init(contractID: contract.id, deliveryID: delivery.id, approvedBy: actor)),
            .paymentReleased(payment),
            .contractCompleted(.init(contractID: contract.id)),
        ]
    }

    private static func describe(_ status: ContractRecord.Status) -> String {
        switch status {
        case .active: "active"
        case .delivered: "awaiting review of a delivery"
        case .disputed: "under dispute"
        case .settling: "settling"
        case .completed: "completed"
        case .cancelled: "cancelled"
        }
    }
}
