import Foundation

extension ContractEvent {
    /// `ContractStarted` v1: `{"contractId", "gigId", "bidId", "clientId", "freelancerId",
    /// "amount": Money, "estimatedDays", "reviewWindowDays", "platformFeeBasisPoints"}`.
    /// Written with `BidAccepted`, in the same append.
    public struct ContractStarted: EventPayload {
        public static let eventType = "ContractStarted"
        public let contractID: ContractID
        public let gigID: GigID
        public let bidID: BidID
        public let clientID: ClientID
        public let freelancerID: FreelancerID
        /// The agreed amount: the accepted bid's amount.
        public let amount: Money
        /// The accepted bid's estimate.
        public let estimatedDays: Int
        public let reviewWindowDays: Int
        public let platformFeeBasisPoints: Int

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
        public static let eventType = "DeliverySubmitted"
        public let contractID: ContractID
        public let deliveryID: DeliveryID
        public let note: String
        /// References to the delivered work (URLs or storage keys), in the order given.
        public let artifacts: [String]
        public let submittedAt: Date

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
        public static let eventType = "ChangesRequested"
        public let contractID: ContractID
        public let deliveryID: DeliveryID
        public let reason: String

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
        public static let eventType = "DeliveryApproved"
        public let contractID: ContractID
        public let deliveryID: DeliveryID
        public let approvedBy: ActorRef

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
        public static let eventType = "PaymentReleased"
        public let contractID: ContractID
        public let invoiceNumber: String
        /// The agreed amount, paid by the client.
        public let gross: Money
        /// The platform's share.
        public let platformFee: Money
        /// What the freelancer receives.
        public let net: Money

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
        public static let eventType = "DisputeOpened"
        public let contractID: ContractID
        public let disputeID: DisputeID
        public let openedBy: ActorRef
        public let reason: String

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
        public static let eventType = "DisputeResolved"
        public let contractID: ContractID
        public let disputeID: DisputeID
        public let resolvedBy: ActorRef
        public let resolution: DisputeResolution
        public let note: String

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
        public static let eventType = "ContractCompleted"
        public let contractID: ContractID

        public init(contractID: ContractID) {
            self.contractID = contractID
        }

        private enum CodingKeys: String, CodingKey {
            case contractID = "contractId"
        }
    }

    /// `ContractCancelled` v1: `{"contractId", "cancelledBy": actor}`. Nothing was paid.
    public struct ContractCancelled: EventPayload {
        public static let eventType = "ContractCancelled"
        public let contractID: ContractID
        public let cancelledBy: ActorRef

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
        public static let eventType = "ReviewSubmitted"
        public let contractID: ContractID
        public let authorSide: ContractSide
        public let rating: Int
        public let text: String

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
