import Foundation

extension GigEvent {
    /// `GigPosted` v2: `{"gigId", "clientId", "title", "description", "skills": [slug],
    /// "budgetMin": Money, "budgetMax": Money, "biddingClosesAt": time, "experience": level,
    /// "engagement": {"kind", "hours"?}}`. Skills are sorted and unique; both budget amounts are in
    /// the gig's currency. `biddingClosesAt` is rounded to whole milliseconds (the stored
    /// precision) so the event equals itself read back. Version 1 had neither `experience` nor
    /// `engagement`; its upcaster (``EventRegistry/marketplace``) reads them as `any` and
    /// `fixedPrice`.
    public struct GigPosted: EventPayload {
        public static let eventType = "GigPosted"
        public let gigID: GigID
        public let clientID: ClientID
        public let title: String
        public let description: String
        public let skills: [Skill]
        public let budgetMin: Money
        public let budgetMax: Money
        public let biddingClosesAt: Date
        /// The experience wanted (v2).
        public let experience: ExperienceLevel
        /// Fixed price or hourly, with hours (v2).
        public let engagement: Engagement

        public init(
            gigID: GigID, clientID: ClientID, title: String, description: String, skills: [Skill],
            budgetMin: Money, budgetMax: Money, biddingClosesAt: Date, experience: ExperienceLevel,
            engagement: Engagement
        ) {
            self.gigID = gigID
            self.clientID = clientID
            self.title = title
            self.description = description
            self.skills = skills
            self.budgetMin = budgetMin
            self.budgetMax = budgetMax
            self.biddingClosesAt = EventTime.normalized(biddingClosesAt)
            self.experience = experience
            self.engagement = engagement
        }

        /// The gig's currency: every bid must use it.
        public var currency: Currency { budgetMin.currency }

        private enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case clientID = "clientId"
            case title
            case description
            case skills
            case budgetMin
            case budgetMax
            case biddingClosesAt
            case experience
            case engagement
        }
    }

    /// `BidPlaced` v1: `{"gigId", "bidId", "freelancerId", "amount": Money, "estimatedDays"}`.
    public struct BidPlaced: EventPayload {
        public static let eventType = "BidPlaced"
        public let gigID: GigID
        public let bidID: BidID
        public let freelancerID: FreelancerID
        public let amount: Money
        public let estimatedDays: Int

        public init(gigID: GigID, bidID: BidID, freelancerID: FreelancerID, amount: Money, estimatedDays: Int) {
            self.gigID = gigID
            self.bidID = bidID
            self.freelancerID = freelancerID
            self.amount = amount
            self.estimatedDays = estimatedDays
        }

        private enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case bidID = "bidId"
            case freelancerID = "freelancerId"
            case amount
            case estimatedDays
        }
    }

    /// `BidRevised` v1: `{"gigId", "bidId", "freelancerId", "amount": Money, "estimatedDays"}`,
    /// the bid's new values.
    public struct BidRevised: EventPayload {
        public static let eventType = "BidRevised"
        public let gigID: GigID
        public let bidID: BidID
        public let freelancerID: FreelancerID
        public let amount: Money
        public let estimatedDays: Int

        public init(gigID: GigID, bidID: BidID, freelancerID: FreelancerID, amount: Money, estimatedDays: Int) {
            self.gigID = gigID
            self.bidID = bidID
            self.freelancerID = freelancerID
            self.amount = amount
            self.estimatedDays = estimatedDays
        }

        private enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case bidID = "bidId"
            case freelancerID = "freelancerId"
            case amount
            case estimatedDays
        }
    }

    /// `BidWithdrawn` v1: `{"gigId", "bidId", "freelancerId"}`.
    public struct BidWithdrawn: EventPayload {
        public static let eventType = "BidWithdrawn"
        public let gigID: GigID
        public let bidID: BidID
        public let freelancerID: FreelancerID

        public init(gigID: GigID, bidID: BidID, freelancerID: FreelancerID) {
            self.gigID = gigID
            self.bidID = bidID
            self.freelancerID = freelancerID
        }

        private enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case bidID = "bidId"
            case freelancerID = "freelancerId"
        }
    }

    /// `BidDeclined` v1: `{"gigId", "bidId", "freelancerId", "reason": BidDeclineReason}`; the
    /// reason is visible to the freelancer.
    public struct BidDeclined: EventPayload {
        public static let eventType = "BidDeclined"
        public let gigID: GigID
        public let bidID: BidID
        public let freelancerID: FreelancerID
        public let reason: BidDeclineReason

        public init(gigID: GigID, bidID: BidID, freelancerID: FreelancerID, reason: BidDeclineReason) {
            self.gigID = gigID
            self.bidID = bidID
            self.freelancerID = freelancerID
            self.reason = reason
        }

        private enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case bidID = "bidId"
            case freelancerID = "freelancerId"
            case reason
        }
    }

    /// `BidAccepted` v1: `{"gigId", "bidId", "freelancerId", "agreedAmount": Money, "contractId"}`.
    /// The gig is awarded; its other live bids lapse.
    public struct BidAccepted: EventPayload {
        public static let eventType = "BidAccepted"
        public let gigID: GigID
        public let bidID: BidID
        public let freelancerID: FreelancerID
        public let agreedAmount: Money
        public let contractID: ContractID

        public init(gigID: GigID, bidID: BidID, freelancerID: FreelancerID, agreedAmount: Money, contractID: ContractID)
        {
            self.gigID = gigID
            self.bidID = bidID
            self.freelancerID = freelancerID
            self.agreedAmount = agreedAmount
            self.contractID = contractID
        }

        private enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case bidID = "bidId"
            case freelancerID = "freelancerId"
            case agreedAmount
            case contractID = "contractId"
        }
    }

    /// `GigClosed` v1: `{"gigId", "reason": "filled" | "cancelled" | "expired"}`. Live bids lapse.
    public struct GigClosed: EventPayload {
        public static let eventType = "GigClosed"
        public let gigID: GigID
        public let reason: GigCloseReason

        public init(gigID: GigID, reason: GigCloseReason) {
            self.gigID = gigID
            self.reason = reason
        }

        private enum CodingKeys: String, CodingKey {
            case gigID = "gigId"
            case reason
        }
    }
}
