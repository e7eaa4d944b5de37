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
        /// The stored type name.
        public static let eventType = "GigPosted"
        /// The new gig: the id of its `gig-<id>` stream.
        public let gigID: GigID
        /// The client who posted it.
        public let clientID: ClientID
        /// The gig's title.
        public let title: String
        public let description: String
        /// The skills the gig needs, sorted by slug, each once.
        public let skills: [Skill]
        /// The lowest budget; its currency is the gig's.
        public let budgetMin: Money
        /// The highest budget, in the same currency; at least ``budgetMin``.
        public let budgetMax: Money
        /// When bidding ends, rounded to whole milliseconds.
        public let biddingClosesAt: Date
        /// The experience wanted (v2).
        public let experience: ExperienceLevel
        /// Fixed price or hourly, with hours (v2).
        public let engagement: Engagement

        /// A posting with these fields; `biddingClosesAt` is rounded to whole milliseconds.
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
        /// The stored type name.
        public static let eventType = "BidPlaced"
        /// The gig (the id of its `gig-<id>` stream).
        public let gigID: GigID
        /// The new bid's id, unique within the gig.
        public let bidID: BidID
        /// The bidder.
        public let freelancerID: FreelancerID
        /// The offered amount, in the gig's currency.
        public let amount: Money
        /// The offered delivery time, in days (1–365).
        public let estimatedDays: Int

        /// A `BidPlaced` with these fields, as `decide` records it.
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
        /// The stored type name.
        public static let eventType = "BidRevised"
        /// The gig (the id of its `gig-<id>` stream).
        public let gigID: GigID
        /// The bid it concerns.
        public let bidID: BidID
        /// The bidder.
        public let freelancerID: FreelancerID
        /// The new amount, in the gig's currency.
        public let amount: Money
        /// The new estimate, in days (1–365).
        public let estimatedDays: Int

        /// A `BidRevised` with these fields, as `decide` records it.
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
        /// The stored type name.
        public static let eventType = "BidWithdrawn"
        /// The gig (the id of its `gig-<id>` stream).
        public let gigID: GigID
        /// The bid it concerns.
        public let bidID: BidID
        /// The bidder.
        public let freelancerID: FreelancerID

        /// A `BidWithdrawn` with these fields, as `decide` records it.
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
        /// The stored type name.
        public static let eventType = "BidDeclined"
        /// The gig (the id of its `gig-<id>` stream).
        public let gigID: GigID
        /// The bid it concerns.
        public let bidID: BidID
        /// The bidder.
        public let freelancerID: FreelancerID
        /// Why, as the freelancer is told.
        public let reason: BidDeclineReason

        /// A `BidDeclined` with these fields, as `decide` records it.
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
        /// The stored type name.
        public static let eventType = "BidAccepted"
        /// The gig (the id of its `gig-<id>` stream).
        public let gigID: GigID
        /// The bid it concerns.
        public let bidID: BidID
        /// The bidder.
        public let freelancerID: FreelancerID
        /// The accepted bid's current amount: what the contract pays.
        public let agreedAmount: Money
        /// The contract the award starts; its stream is created in the same append.
        public let contractID: ContractID

        /// A `BidAccepted` with these fields, as `decide` records it.
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
        /// The stored type name.
        public static let eventType = "GigClosed"
        /// The gig (the id of its `gig-<id>` stream).
        public let gigID: GigID
        /// Why it closed: filled, cancelled or expired.
        public let reason: GigCloseReason

        /// A `GigClosed` with these fields, as `decide` records it.
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

extension GigEvent.GigPosted {
    /// Equal but for the personal fields (``PersonalData/fields``), which no rule reads.
    public func sameFacts(as other: Self) -> Bool {
        gigID == other.gigID && clientID == other.clientID && skills == other.skills && budgetMin == other.budgetMin
            && budgetMax == other.budgetMax && biddingClosesAt == other.biddingClosesAt
            && experience == other.experience
            && engagement == other.engagement
    }
}
