import Foundation

extension ContractEvent {
    /// `ContractStarted` v1: `{"contractId", "gigId", "bidId", "clientId", "freelancerId",
    /// "amount": Money, "estimatedDays", "reviewWindowDays", "platformFeeBasisPoints"}`.
    /// Written with `BidAccepted`, in the same append.
    public struct ContractStarted: EventPayload {
        /// The stored type name.
        public static let eventType = "ContractStarted"
        /// The new contract: the id of its `contract-<id>` stream.
        public let contractID: ContractID
        /// The gig it was awarded from.
        public let gigID: GigID
        /// The accepted bid.
        public let bidID: BidID
        /// The client who pays.
        public let clientID: ClientID
        /// The freelancer who does the work.
        public let freelancerID: FreelancerID
        /// The agreed amount: the accepted bid's amount.
        public let amount: Money
        /// The accepted bid's estimate.
        public let estimatedDays: Int
        /// Days the client has to review each delivery (from the contract's terms).
        public let reviewWindowDays: Int
        /// The platform's fee in basis points (from the contract's terms).
        public let platformFeeBasisPoints: Int

        /// A start with these fields; `terms` is stored as its two numbers.
        public init(
            contractID: ContractID, gigID: GigID, bidID: BidID, clientID: ClientID, freelancerID: FreelancerID,
            amount: Money, estimatedDays: Int, terms: ContractTerms
        ) {
            self.contractID = contractID
            self.gigID = gigID
            self.bidID = bidID
            self.clientID = clientID
            self.freelancerID = freelancerID
            self.amount = amount
            self.estimatedDays = estimatedDays
            reviewWindowDays = terms.reviewWindowDays
            platformFeeBasisPoints = terms.platformFeeBasisPoints
        }

        /// The platform terms the contract runs under.
        public var terms: ContractTerms {
            ContractTerms(reviewWindowDays: reviewWindowDays, platformFeeBasisPoints: platformFeeBasisPoints)
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
            case gigID = "gigId"
            case bidID = "bidId"
            case clientID = "clientId"
            case freelancerID = "freelancerId"
            case amount
            case estimatedDays
            case reviewWindowDays
            case platformFeeBasisPoints
        }
    }

    /// `DeliverySubmitted` v1: `{"contractId", "deliveryId", "note", "artifacts": [string],
    /// "submittedAt": time}`. The review window runs from `submittedAt`, which is rounded to whole
    /// milliseconds (the stored precision) so the event equals itself read back.
    public struct DeliverySubmitted: EventPayload {
        /// The stored type name.
        public static let eventType = "DeliverySubmitted"
        /// The contract (the id of its `contract-<id>` stream).
        public let contractID: ContractID
        /// The new delivery's id, unique within the contract.
        public let deliveryID: DeliveryID
        /// The freelancer's note on the delivery (may be empty).
        public let note: String
        /// References to the delivered work (URLs or storage keys), in the order given.
        public let artifacts: [String]
        /// When it was submitted (the command's time, rounded to whole milliseconds); the review
        /// window runs from here.
        public let submittedAt: Date

        /// A submission with these fields; `submittedAt` is rounded to whole milliseconds.
        public init(
            contractID: ContractID, deliveryID: DeliveryID, note: String, artifacts: [String], submittedAt: Date
        ) {
            self.contractID = contractID
            self.deliveryID = deliveryID
            self.note = note
            self.artifacts = artifacts
            self.submittedAt = EventTime.normalized(submittedAt)
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
            case deliveryID = "deliveryId"
            case note
            case artifacts
            case submittedAt
        }
    }

    /// `ChangesRequested` v1: `{"contractId", "deliveryId", "reason"}`. The contract is active again.
    public struct ChangesRequested: EventPayload {
        /// The stored type name.
        public static let eventType = "ChangesRequested"
        /// The contract (the id of its `contract-<id>` stream).
        public let contractID: ContractID
        /// The delivery it concerns.
        public let deliveryID: DeliveryID
        /// What the client wants changed.
        public let reason: String

        /// A `ChangesRequested` with these fields, as `decide` records it.
        public init(contractID: ContractID, deliveryID: DeliveryID, reason: String) {
            self.contractID = contractID
            self.deliveryID = deliveryID
            self.reason = reason
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
            case deliveryID = "deliveryId"
            case reason
        }
    }

    /// `DeliveryApproved` v1: `{"contractId", "deliveryId", "approvedBy": actor}`; `approvedBy`
    /// is `client:<id>`, or `system` when the review window passed.
    public struct DeliveryApproved: EventPayload {
        /// The stored type name.
        public static let eventType = "DeliveryApproved"
        /// The contract (the id of its `contract-<id>` stream).
        public let contractID: ContractID
        /// The delivery it concerns.
        public let deliveryID: DeliveryID
        /// `client:<id>`, or `system` when the review window passed.
        public let approvedBy: ActorRef

        /// A `DeliveryApproved` with these fields, as `decide` records it.
        public init(contractID: ContractID, deliveryID: DeliveryID, approvedBy: ActorRef) {
            self.contractID = contractID
            self.deliveryID = deliveryID
            self.approvedBy = approvedBy
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
            case deliveryID = "deliveryId"
            case approvedBy
        }
    }

    /// `PaymentReleased` v1: `{"contractId", "invoiceNumber", "gross": Money, "platformFee": Money,
    /// "net": Money}`, with `gross = platformFee + net`. See ``Invoice``.
    public struct PaymentReleased: EventPayload {
        /// The stored type name.
        public static let eventType = "PaymentReleased"
        /// The contract (the id of its `contract-<id>` stream).
        public let contractID: ContractID
        /// `INV-<year>-<contract id in upper-case hex>` (see
        /// ``Invoice/number(contractID:issuedAt:)``).
        public let invoiceNumber: String
        /// The agreed amount, paid by the client.
        public let gross: Money
        /// The platform's share.
        public let platformFee: Money
        /// What the freelancer receives.
        public let net: Money

        /// A `PaymentReleased` with these fields, as `decide` records it.
        public init(contractID: ContractID, invoiceNumber: String, gross: Money, platformFee: Money, net: Money) {
            self.contractID = contractID
            self.invoiceNumber = invoiceNumber
            self.gross = gross
            self.platformFee = platformFee
            self.net = net
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
            case invoiceNumber
            case gross
            case platformFee
            case net
        }
    }

    /// `DisputeOpened` v1: `{"contractId", "disputeId", "openedBy": actor, "reason"}`.
    public struct DisputeOpened: EventPayload {
        /// The stored type name.
        public static let eventType = "DisputeOpened"
        /// The contract (the id of its `contract-<id>` stream).
        public let contractID: ContractID
        /// The new dispute's id, unique within the contract.
        public let disputeID: DisputeID
        /// Who opened it: either party, or an admin.
        public let openedBy: ActorRef
        /// Why it was opened.
        public let reason: String

        /// A `DisputeOpened` with these fields, as `decide` records it.
        public init(contractID: ContractID, disputeID: DisputeID, openedBy: ActorRef, reason: String) {
            self.contractID = contractID
            self.disputeID = disputeID
            self.openedBy = openedBy
            self.reason = reason
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
            case disputeID = "disputeId"
            case openedBy
            case reason
        }
    }

    /// `DisputeResolved` v1: `{"contractId", "disputeId", "resolvedBy": actor, "resolution":
    /// "resumeWork" | "payFreelancer" | "refundClient", "note"}`.
    public struct DisputeResolved: EventPayload {
        /// The stored type name.
        public static let eventType = "DisputeResolved"
        /// The contract (the id of its `contract-<id>` stream).
        public let contractID: ContractID
        /// The dispute it concerns.
        public let disputeID: DisputeID
        /// The admin who resolved it.
        public let resolvedBy: ActorRef
        /// What was decided: resume work, pay the freelancer, or refund the client.
        public let resolution: DisputeResolution
        /// The admin's note, shown to both parties (may be empty).
        public let note: String

        /// A `DisputeResolved` with these fields, as `decide` records it.
        public init(
            contractID: ContractID, disputeID: DisputeID, resolvedBy: ActorRef, resolution: DisputeResolution,
            note: String
        ) {
            self.contractID = contractID
            self.disputeID = disputeID
            self.resolvedBy = resolvedBy
            self.resolution = resolution
            self.note = note
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
            case disputeID = "disputeId"
            case resolvedBy
            case resolution
            case note
        }
    }

    /// `ContractCompleted` v1: `{"contractId"}`. Follows `PaymentReleased`.
    public struct ContractCompleted: EventPayload {
        /// The stored type name.
        public static let eventType = "ContractCompleted"
        /// The contract (the id of its `contract-<id>` stream).
        public let contractID: ContractID

        /// A `ContractCompleted` with these fields, as `decide` records it.
        public init(contractID: ContractID) {
            self.contractID = contractID
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
        }
    }

    /// `ContractCancelled` v1: `{"contractId", "cancelledBy": actor}`. Nothing was paid.
    public struct ContractCancelled: EventPayload {
        /// The stored type name.
        public static let eventType = "ContractCancelled"
        /// The contract (the id of its `contract-<id>` stream).
        public let contractID: ContractID
        /// Who cancelled it: a party or an admin, or the admin who resolved a dispute with a
        /// refund.
        public let cancelledBy: ActorRef

        /// A `ContractCancelled` with these fields, as `decide` records it.
        public init(contractID: ContractID, cancelledBy: ActorRef) {
            self.contractID = contractID
            self.cancelledBy = cancelledBy
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
            case cancelledBy
        }
    }

    /// `ReviewSubmitted` v1: `{"contractId", "authorSide": "client" | "freelancer", "rating": 1–5,
    /// "text"}`. The reviewed party is the other side of the contract.
    public struct ReviewSubmitted: EventPayload {
        /// The stored type name.
        public static let eventType = "ReviewSubmitted"
        /// The contract (the id of its `contract-<id>` stream).
        public let contractID: ContractID
        /// The side that wrote it; the other side is the one reviewed.
        public let authorSide: ContractSide
        /// 1–5.
        public let rating: Int
        /// The review text (may be empty).
        public let text: String

        /// A `ReviewSubmitted` with these fields, as `decide` records it.
        public init(contractID: ContractID, authorSide: ContractSide, rating: Int, text: String) {
            self.contractID = contractID
            self.authorSide = authorSide
            self.rating = rating
            self.text = text
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
            case authorSide
            case rating
            case text
        }
    }
}
