import Foundation

/// A request to change a gig's stream (`gig-<id>`), which holds the gig and all its bids.
///
/// Facts from other streams that a rule needs (is the client registered? is the bidder a
/// registered freelancer?) are carried in the command, filled in by the command handler from the
/// other stream just before deciding; `decide` trusts them. Registration can never be undone, so a
/// fact read without a lock on the other stream cannot go stale.
public enum GigCommand: Hashable, Sendable {
    case postGig(PostGig)
    case placeBid(PlaceBid)
    case reviseBid(ReviseBid)
    case withdrawBid(WithdrawBid)
    case declineBid(DeclineBid)
    case acceptBid(AcceptBid)
    case cancelGig(CancelGig)
    case expireGig(ExpireGig)
    case closeAwardedGig(CloseAwardedGig)

    /// Posts gig ``gigID`` for client ``clientID``.
    ///
    /// Checks, in order: actor is that client or an admin (`NOT_ALLOWED`); a gig already posted
    /// under the id decides nothing when the posting is identical, else `ID_IN_USE`;
    /// `clientRegistered` (`CLIENT_NOT_FOUND`); title, description (`INVALID_INPUT`); at least one
    /// known skill (`UNKNOWN_SKILL`); one currency (`CURRENCY_MISMATCH`); `0 < min ≤ max ≤ cap`
    /// (`INVALID_BUDGET`); deadline after `occurredAt`, within a year (`INVALID_INPUT`); an hourly
    /// engagement's hours 1–2000 (`INVALID_INPUT`).
    public struct PostGig: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// A new id, chosen by the caller.
        public var gigID: GigID
        /// The posting client; the actor must be this client or an admin.
        public var clientID: ClientID
        /// 1–200 characters, not blank, no control characters.
        public var title: String
        /// Up to 5000 characters; newline and tab allowed, other control characters not.
        public var description: String
        /// 1–20 known skill slugs; duplicates are merged, order does not matter.
        public var skills: [String]
        /// `0 < budgetMin ≤ budgetMax ≤` ``MarketplaceLimits/maximumAmountMinorUnits``, one currency.
        public var budgetMin: Money
        /// At least ``budgetMin``, in the same currency.
        public var budgetMax: Money
        /// After the command's time, at most ``MarketplaceLimits/maximumBiddingDays`` ahead.
        public var biddingClosesAt: Date
        /// Handler-supplied fact: ``ClientState/isRegistered`` of `client-<clientID>`.
        public var clientRegistered: Bool
        /// The experience wanted; `any` unless the client says.
        public var experience: ExperienceLevel
        /// Fixed price (the default) or hourly with 1–2000 hours (`INVALID_INPUT` otherwise).
        public var engagement: Engagement

        /// A `PostGig` command with these fields; `decide` checks the rules, not this initializer.
        public init(
            context: CommandContext, gigID: GigID, clientID: ClientID, title: String, description: String,
            skills: [String], budgetMin: Money, budgetMax: Money, biddingClosesAt: Date, clientRegistered: Bool,
            experience: ExperienceLevel = .any, engagement: Engagement = .fixedPrice
        ) {
            self.context = context
            self.gigID = gigID
            self.clientID = clientID
            self.title = title
            self.description = description
            self.skills = skills
            self.budgetMin = budgetMin
            self.budgetMax = budgetMax
            self.biddingClosesAt = biddingClosesAt
            self.clientRegistered = clientRegistered
            self.experience = experience
            self.engagement = engagement
        }
    }

    /// Places bid ``bidID``. The bidder is the acting freelancer (`.freelancer(id)`).
    ///
    /// Checks, in order: the gig exists (`GIG_NOT_FOUND`); actor is a freelancer (`NOT_ALLOWED`);
    /// a bid already under the id decides nothing when it is this freelancer's with the same
    /// amount and days (even if since revised or withdrawn), else `ID_IN_USE`; `bidderRegistered`
    /// (`FREELANCER_NOT_FOUND`); the freelancer id is not the gig's client id (`SELF_BID`: one
    /// person holds both roles under the same UUID); gig open (`GIG_NOT_OPEN`); before
    /// `biddingClosesAt` (`BIDDING_CLOSED`); no other live bid of this freelancer
    /// (`DUPLICATE_BID`; after withdrawing, bid again under a new id); the gig's currency
    /// (`CURRENCY_MISMATCH`); `0 < amount ≤ cap` (`INVALID_AMOUNT`, the budget is only a guide);
    /// 1–365 days (`INVALID_INPUT`).
    public struct PlaceBid: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The gig; its stream decides the command.
        public var gigID: GigID
        /// A new id, chosen by the caller.
        public var bidID: BidID
        /// Positive, at most the cap, in the gig's currency. May lie outside the budget.
        public var amount: Money
        /// 1–365.
        public var estimatedDays: Int
        /// Handler-supplied fact: ``FreelancerState/isRegistered`` of the acting freelancer's stream.
        public var bidderRegistered: Bool

        /// A `PlaceBid` command with these fields; `decide` checks the rules, not this initializer.
        public init(
            context: CommandContext, gigID: GigID, bidID: BidID, amount: Money, estimatedDays: Int,
            bidderRegistered: Bool
        ) {
            self.context = context
            self.gigID = gigID
            self.bidID = bidID
            self.amount = amount
            self.estimatedDays = estimatedDays
            self.bidderRegistered = bidderRegistered
        }
    }

    /// Changes a live bid's amount and days.
    ///
    /// Checks, in order: gig exists; actor is a freelancer; bid exists (`BID_NOT_FOUND`); it is
    /// the actor's (`NOT_ALLOWED`); gig open (`GIG_NOT_OPEN`); bid live (`BID_NOT_LIVE`); the
    /// bid's current values again decide nothing; then deadline, currency, amount and days as for
    /// ``PlaceBid``.
    public struct ReviseBid: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The gig; its stream decides the command.
        public var gigID: GigID
        /// The bid, one of the gig's.
        public var bidID: BidID
        /// The new amount; the same rules as ``PlaceBid/amount``.
        public var amount: Money
        /// The new estimate in days, 1–365.
        public var estimatedDays: Int

        /// A `ReviseBid` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, gigID: GigID, bidID: BidID, amount: Money, estimatedDays: Int) {
            self.context = context
            self.gigID = gigID
            self.bidID = bidID
            self.amount = amount
            self.estimatedDays = estimatedDays
        }
    }

    /// Withdraws a live bid, also after the bidding deadline while the gig is open.
    ///
    /// Checks, in order: gig exists; actor is a freelancer (`NOT_ALLOWED`); bid exists
    /// (`BID_NOT_FOUND`); it is the actor's (`NOT_ALLOWED`); a withdrawn bid decides nothing; bid
    /// live (`BID_NOT_LIVE`).
    public struct WithdrawBid: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The gig; its stream decides the command.
        public var gigID: GigID
        /// The bid, one of the gig's.
        public var bidID: BidID

        /// A `WithdrawBid` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, gigID: GigID, bidID: BidID) {
            self.context = context
            self.gigID = gigID
            self.bidID = bidID
        }
    }

    /// Declines a live bid, telling the freelancer why.
    ///
    /// Checks, in order: gig exists; actor is the gig's client (`NOT_ALLOWED`); bid exists
    /// (`BID_NOT_FOUND`); a declined bid decides nothing (the first reason stands); bid live
    /// (`BID_NOT_LIVE`).
    public struct DeclineBid: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The gig; its stream decides the command.
        public var gigID: GigID
        /// The bid, one of the gig's.
        public var bidID: BidID
        /// Why, as the freelancer is told.
        public var reason: BidDeclineReason

        /// A `DeclineBid` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, gigID: GigID, bidID: BidID, reason: BidDeclineReason) {
            self.context = context
            self.gigID = gigID
            self.bidID = bidID
            self.reason = reason
        }
    }

    /// Accepts a live bid before the bidding deadline and starts contract ``contractID``.
    ///
    /// Decides `BidAccepted` for the gig stream and `ContractStarted` for the new contract
    /// stream (see ``GigDecision``). Checks, in order: gig exists; actor is the gig's client
    /// (`NOT_GIG_OWNER`); bid exists (`BID_NOT_FOUND`); on an awarded gig the same bid and
    /// contract id decide nothing, anything else is `GIG_ALREADY_AWARDED`; gig open
    /// (`GIG_NOT_OPEN`); bid live (`BID_NOT_LIVE`); before `biddingClosesAt` (`BIDDING_CLOSED`);
    /// terms within limits (`INVALID_INPUT`). A contract id already used by another gig is
    /// caught by the append (the contract stream must not exist).
    public struct AcceptBid: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The gig; its stream decides the command.
        public var gigID: GigID
        /// The bid, one of the gig's.
        public var bidID: BidID
        /// A new id, chosen by the caller, for the contract stream.
        public var contractID: ContractID
        /// The platform terms, from the handler's configuration (not from the client).
        public var terms: ContractTerms

        /// An `AcceptBid` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(
            context: CommandContext, gigID: GigID, bidID: BidID, contractID: ContractID,
            terms: ContractTerms = .standard
        ) {
            self.context = context
            self.gigID = gigID
            self.bidID = bidID
            self.contractID = contractID
            self.terms = terms
        }
    }

    /// Cancels an open gig; its live bids lapse. Actor: the gig's client or an admin. Cancelling
    /// a cancelled gig decides nothing; an awarded, expired or filled gig is not open.
    public struct CancelGig: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The gig; its stream decides the command.
        public var gigID: GigID

        /// A `CancelGig` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, gigID: GigID) {
            self.context = context
            self.gigID = gigID
        }
    }

    /// The expiry timer: closes an open gig whose bidding deadline has passed with no award.
    /// Actor: `.system`.
    ///
    /// Timers must be idempotent and safe to run twice, so a gig that is already closed (for any
    /// reason) or awarded decides nothing: the timer's work is done or moot. A timer firing
    /// before the deadline is a scheduling bug and fails with
    /// ``DomainError/Code/deadlineNotPassed``.
    public struct ExpireGig: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The gig; its stream decides the command.
        public var gigID: GigID

        /// An `ExpireGig` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, gigID: GigID) {
            self.context = context
            self.gigID = gigID
        }
    }

    /// Closes an awarded gig once its contract has ended: `filled` after `ContractCompleted`,
    /// `cancelled` after `ContractCancelled`. Actor: `.system` (the process manager that watches
    /// contract streams) or an admin. A gig already closed that way decides nothing.
    public struct CloseAwardedGig: Hashable, Sendable {
        /// How the gig's contract ended.
        public enum ContractOutcome: Hashable, Sendable {
            case completed
            case cancelled
        }

        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The gig; its stream decides the command.
        public var gigID: GigID
        /// The awarded contract.
        public var contractID: ContractID
        /// How the contract ended: `completed` closes the gig as filled, `cancelled` as cancelled.
        public var outcome: ContractOutcome

        /// A `CloseAwardedGig` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, gigID: GigID, contractID: ContractID, outcome: ContractOutcome) {
            self.context = context
            self.gigID = gigID
            self.contractID = contractID
            self.outcome = outcome
        }
    }

    /// The command's id, actor and time.
    public var context: CommandContext {
        switch self {
        case .postGig(let command): command.context
        case .placeBid(let command): command.context
        case .reviseBid(let command): command.context
        case .withdrawBid(let command): command.context
        case .declineBid(let command): command.context
        case .acceptBid(let command): command.context
        case .cancelGig(let command): command.context
        case .expireGig(let command): command.context
        case .closeAwardedGig(let command): command.context
        }
    }

    /// The gig whose stream the command changes.
    public var gigID: GigID {
        switch self {
        case .postGig(let command): command.gigID
        case .placeBid(let command): command.gigID
        case .reviseBid(let command): command.gigID
        case .withdrawBid(let command): command.gigID
        case .declineBid(let command): command.gigID
        case .acceptBid(let command): command.gigID
        case .cancelGig(let command): command.gigID
        case .expireGig(let command): command.gigID
        case .closeAwardedGig(let command): command.gigID
        }
    }

    /// The stream to load and append to.
    public var stream: MarketplaceStream { gigID.stream }
}
