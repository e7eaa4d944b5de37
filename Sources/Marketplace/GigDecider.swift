import Foundation

/// Decides and applies gig and bid events; accepting a bid also starts a contract stream.
///
/// Rules and the codes they fail with, in the order they are checked, are documented on each
/// ``GigCommand`` payload. Bidding, revising and accepting need `occurredAt < biddingClosesAt`:
/// "bidding closes at" ends the gig's open phase, so the outcome never depends on when the
/// expiry timer happens to run.
public enum GigDecider: Decider {
    /// Before the stream's first event: no gig posted.
    public static let initialState = GigState.notPosted

    /// The events `command` causes, grouped per stream.
    public static func decide(_ command: GigCommand, _ state: GigState) throws(DomainError) -> GigDecision {
        try Validate.context(command.context)
        let gigID = command.gigID
        switch command {
        case .postGig(let post):
            return GigDecision(gigID: gigID, gigEvents: try decidePost(post, state))
        case .placeBid(let place):
            return GigDecision(gigID: gigID, gigEvents: try decidePlace(place, try posted(state, gigID)))
        case .reviseBid(let revise):
            return GigDecision(gigID: gigID, gigEvents: try decideRevise(revise, try posted(state, gigID)))
        case .withdrawBid(let withdraw):
            return GigDecision(gigID: gigID, gigEvents: try decideWithdraw(withdraw, try posted(state, gigID)))
        case .declineBid(let decline):
            return GigDecision(gigID: gigID, gigEvents: try decideDecline(decline, try posted(state, gigID)))
        case .acceptBid(let accept):
            return try decideAccept(accept, try posted(state, gigID))
        case .cancelGig(let cancel):
            return GigDecision(gigID: gigID, gigEvents: try decideCancel(cancel, try posted(state, gigID)))
        case .expireGig(let expire):
            return GigDecision(gigID: gigID, gigEvents: try decideExpire(expire, state))
        case .closeAwardedGig(let close):
            return GigDecision(gigID: gigID, gigEvents: try decideCloseAwarded(close, state))
        }
    }

    /// Applies `event`; events that do not fit the state are ignored.
    public static func evolve(_ state: GigState, _ event: GigEvent) -> GigState {
        guard case .posted(var gig) = state else {
            if case .gigPosted(let posting) = event { return .posted(PostedGig(posting)) }
            return state
        }
        switch event {
        case .gigPosted:
            return state
        case .bidPlaced(let placed):
            guard gig.bids[placed.bidID] == nil else { return state }
            gig.bids[placed.bidID] = Bid(placed)
        case .bidRevised(let revised):
            guard var bid = gig.bids[revised.bidID] else { return state }
            bid.amount = revised.amount
            bid.estimatedDays = revised.estimatedDays
            bid.revisions += 1
            gig.bids[revised.bidID] = bid
        case .bidWithdrawn(let withdrawn):
            gig.bids[withdrawn.bidID]?.status = .withdrawn
        case .bidDeclined(let declined):
            gig.bids[declined.bidID]?.status = .declined(declined.reason)
        case .bidAccepted(let accepted):
            gig.award = accepted
            gig.status = .awarded
            lapseLiveBids(of: &gig)
            gig.bids[accepted.bidID]?.status = .accepted
        case .gigClosed(let closed):
            gig.status = .closed(closed.reason)
            lapseLiveBids(of: &gig)
        }
        return .posted(gig)
    }

    // MARK: - Posting

    private static func decidePost(_ command: GigCommand.PostGig, _ state: GigState) throws(DomainError) -> [GigEvent] {
        switch command.context.actor {
        case .client(let id) where id == command.clientID: break
        case .admin: break
        default:
            throw DomainError(
                .notAllowed,
                "Only client \(command.clientID) or an admin may post a gig for client \(command.clientID).")
        }
        if let gig = state.gig {
            // Title and description as the handler's fold opened them (erased: the facts decide).
            guard let posting = try? posting(command), posting.sameFacts(as: gig.posting),
                PersonalData.matches(gig.posting.title, posting.title),
                PersonalData.matches(gig.posting.description, posting.description)
            else {
                throw DomainError(
                    .idInUse,
                    "Gig \(command.gigID) is already posted with other details: post a new gig under a new id.")
            }
            return []
        }
        return [.gigPosted(try posting(command))]
    }

    private static func posting(_ command: GigCommand.PostGig) throws(DomainError) -> GigEvent.GigPosted {
        guard command.clientRegistered else {
            throw DomainError(
                .clientNotFound, "Client \(command.clientID) is not registered: register the client before posting.")
        }
        try Validate.text(command.title, field: "title", length: MarketplaceLimits.titleLength, multiline: false)
        try Validate.text(
            command.description, field: "description", length: 0...MarketplaceLimits.maximumDescriptionLength,
            multiline: true)
        let skills = try Validate.gigSkills(command.skills)
        try command.budgetMin.requireSameCurrency(as: command.budgetMax)
        try Validate.positiveAmount(command.budgetMin, field: "budgetMin", code: .invalidBudget)
        try Validate.positiveAmount(command.budgetMax, field: "budgetMax", code: .invalidBudget)
        guard command.budgetMin.minorUnits <= command.budgetMax.minorUnits else {
            throw DomainError(
                .invalidBudget, "budgetMin must not exceed budgetMax: swap them or raise budgetMax.")
        }
        try Validate.storableTime(command.biddingClosesAt, field: "biddingClosesAt")
        // Compare what will be stored: the time rounded to milliseconds.
        let closesAt = EventTime.normalized(command.biddingClosesAt)
        let latest = command.context.occurredAt.addingTimeInterval(
            Double(MarketplaceLimits.maximumBiddingDays) * 86_400)
        guard closesAt > command.context.occurredAt, closesAt <= latest else {
            throw DomainError(
                .invalidInput,
                "biddingClosesAt must lie after the command's time and at most \(MarketplaceLimits.maximumBiddingDays) days ahead."
            )
        }
        if case .hourly(let hours) = command.engagement {
            try Validate.number(hours, field: "hours", in: MarketplaceLimits.engagementHours)
        }
        return GigEvent.GigPosted(
            gigID: command.gigID, clientID: command.clientID, title: command.title, description: command.description,
            skills: skills, budgetMin: command.budgetMin, budgetMax: command.budgetMax, biddingClosesAt: closesAt,
            experience: command.experience, engagement: command.engagement)
    }

    // MARK: - Bids

    private static func decidePlace(_ command: GigCommand.PlaceBid, _ gig: PostedGig) throws(DomainError) -> [GigEvent]
    {
        let freelancerID = try actingFreelancer(command.context, doing: "place a bid")
        if let existing = gig.bids[command.bidID] {
            let placement = existing.placement
            guard placement.freelancerID == freelancerID, placement.amount == command.amount,
                placement.estimatedDays == command.estimatedDays
            else {
                throw DomainError(
                    .idInUse,
                    "Bid \(command.bidID) already exists on gig \(gig.id) with other details: place the bid under a new id."
                )
            }
            return []
        }
        guard command.bidderRegistered else {
            throw DomainError(
                .freelancerNotFound,
                "Freelancer \(freelancerID) is not registered: register as a freelancer before bidding.")
        }
        guard freelancerID.uuid != gig.clientID.uuid else {
            throw DomainError(
                .selfBid, "Gig \(gig.id) was posted by your own client account: you cannot bid on your own gig.")
        }
        try requireOpen(gig)
        try requireBiddingOpen(gig, at: command.context.occurredAt)
        if let live = gig.liveBid(of: freelancerID) {
            throw DomainError(
                .duplicateBid,
                "Freelancer \(freelancerID) already has live bid \(live.id) on gig \(gig.id): revise or withdraw it instead."
            )
        }
        try validateOffer(command.amount, estimatedDays: command.estimatedDays, on: gig)
        return [
            .bidPlaced(
                .init(
                    gigID: gig.id, bidID: command.bidID, freelancerID: freelancerID, amount: command.amount,
                    estimatedDays: command.estimatedDays))
        ]
    }

    private static func decideRevise(_ command: GigCommand.ReviseBid, _ gig: PostedGig) throws(DomainError)
        -> [GigEvent]
    {
        let freelancerID = try actingFreelancer(command.context, doing: "revise a bid")
        let bid = try existingBid(command.bidID, on: gig)
        try requireBidder(freelancerID, of: bid, doing: "revise")
        try requireOpen(gig)
        try requireLive(bid)
        if bid.amount == command.amount, bid.estimatedDays == command.estimatedDays { return [] }
        try requireBiddingOpen(gig, at: command.context.occurredAt)
        try validateOffer(command.amount, estimatedDays: command.estimatedDays, on: gig)
        return [
            .bidRevised(
                .init(
                    gigID: gig.id, bidID: bid.id, freelancerID: freelancerID, amount: command.amount,
                    estimatedDays: command.estimatedDays))
        ]
    }

    private static func decideWithdraw(_ command: GigCommand.WithdrawBid, _ gig: PostedGig) throws(DomainError)
        -> [GigEvent]
    {
        let freelancerID = try actingFreelancer(command.context, doing: "withdraw a bid")
        let bid = try existingBid(command.bidID, on: gig)
        try requireBidder(freelancerID, of: bid, doing: "withdraw")
        if bid.status == .withdrawn { return [] }
        try requireLive(bid)
        return [.bidWithdrawn(.init(gigID: gig.id, bidID: bid.id, freelancerID: freelancerID))]
    }

    private static func decideDecline(_ command: GigCommand.DeclineBid, _ gig: PostedGig) throws(DomainError)
        -> [GigEvent]
    {
        guard command.context.actor == .client(gig.clientID) else {
            throw DomainError(.notAllowed, "Only the gig's client may decline bids on gig \(gig.id).")
        }
        let bid = try existingBid(command.bidID, on: gig)
        if case .declined = bid.status { return [] }
        try requireLive(bid)
        return [
            .bidDeclined(.init(gigID: gig.id, bidID: bid.id, freelancerID: bid.freelancerID, reason: command.reason))
        ]
    }

    private static func decideAccept(_ command: GigCommand.AcceptBid, _ gig: PostedGig) throws(DomainError)
        -> GigDecision
    {
        guard command.context.actor == .client(gig.clientID) else {
            throw DomainError(.notGigOwner, "Only the client who posted gig \(gig.id) may accept its bids.")
        }
        let bid = try existingBid(command.bidID, on: gig)
        if let award = gig.award {
            guard award.bidID == command.bidID, award.contractID == command.contractID else {
                throw DomainError(
                    .gigAlreadyAwarded,
                    "Gig \(gig.id) was already awarded to bid \(award.bidID) (contract \(award.contractID)): a gig has one contract."
                )
            }
            return .nothing(gig.id)
        }
        try requireOpen(gig)
        try requireLive(bid)
        try requireBiddingOpen(gig, at: command.context.occurredAt)
        try Validate.number(
            command.terms.reviewWindowDays, field: "terms.reviewWindowDays", in: MarketplaceLimits.reviewWindowDays)
        try Validate.number(
            command.terms.platformFeeBasisPoints, field: "terms.platformFeeBasisPoints",
            in: MarketplaceLimits.platformFeeBasisPoints)
        let accepted = GigEvent.BidAccepted(
            gigID: gig.id, bidID: bid.id, freelancerID: bid.freelancerID, agreedAmount: bid.amount,
            contractID: command.contractID)
        let started = ContractEvent.ContractStarted(
            contractID: command.contractID, gigID: gig.id, bidID: bid.id, clientID: gig.clientID,
            freelancerID: bid.freelancerID, amount: bid.amount, estimatedDays: bid.estimatedDays, terms: command.terms)
        return GigDecision(
            gigID: gig.id, gigEvents: [.bidAccepted(accepted)],
            startedContract: .init(contractID: command.contractID, events: [.contractStarted(started)]))
    }

    // MARK: - Closing

    private static func decideCancel(_ command: GigCommand.CancelGig, _ gig: PostedGig) throws(DomainError)
        -> [GigEvent]
    {
        switch command.context.actor {
        case .client(let id) where id == gig.clientID: break
        case .admin: break
        default:
            throw DomainError(.notGigOwner, "Only the client who posted gig \(gig.id), or an admin, may cancel it.")
        }
        switch gig.status {
        case .closed(.cancelled): return []
        case .open: return [.gigClosed(.init(gigID: gig.id, reason: .cancelled))]
        case .awarded, .closed:
            throw DomainError(
                .gigNotOpen, "Gig \(gig.id) is \(describe(gig.status)): only an open gig can be cancelled.")
        }
    }

    private static func decideExpire(_ command: GigCommand.ExpireGig, _ state: GigState) throws(DomainError)
        -> [GigEvent]
    {
        guard command.context.actor == .system else {
            throw DomainError(.notAllowed, "Only the system's expiry timer may expire gig \(command.gigID).")
        }
        let gig = try posted(state, command.gigID)
        guard gig.status == .open else { return [] }
        guard command.context.occurredAt >= gig.biddingClosesAt else {
            throw DomainError(
                .deadlineNotPassed,
                "Gig \(gig.id) is still open for bidding at the command's time: expire it at or after biddingClosesAt.")
        }
        return [.gigClosed(.init(gigID: gig.id, reason: .expired))]
    }

    private static func decideCloseAwarded(
        _ command: GigCommand.CloseAwardedGig, _ state: GigState
    ) throws(DomainError) -> [GigEvent] {
        switch command.context.actor {
        case .system, .admin: break
        default: throw DomainError(.notAllowed, "Only the system or an admin may close awarded gig \(command.gigID).")
        }
        let gig = try posted(state, command.gigID)
        guard let award = gig.award, award.contractID == command.contractID else {
            throw DomainError(
                .gigNotAwarded,
                "Gig \(gig.id) is not awarded to contract \(command.contractID): check the gig id of the contract.")
        }
        let reason: GigCloseReason = command.outcome == .completed ? .filled : .cancelled
        switch gig.status {
        case .awarded:
            return [.gigClosed(.init(gigID: gig.id, reason: reason))]
        case .closed(let closedReason) where closedReason == reason:
            return []
        case .open, .closed:
            throw DomainError(
                .gigNotAwarded,
                "Gig \(gig.id) is already \(describe(gig.status)): it cannot be closed as \(reason.rawValue).")
        }
    }

    // MARK: - Helpers

    private static func posted(_ state: GigState, _ gigID: GigID) throws(DomainError) -> PostedGig {
        guard let gig = state.gig else {
            throw DomainError(.gigNotFound, "Gig \(gigID) has not been posted: check the gig id.")
        }
        return gig
    }

    private static func actingFreelancer(_ context: CommandContext, doing action: String) throws(DomainError)
        -> FreelancerID
    {
        guard case .freelancer(let id) = context.actor else {
            throw DomainError(.notAllowed, "Only a freelancer may \(action): sign in as the freelancer.")
        }
        return id
    }

    private static func existingBid(_ bidID: BidID, on gig: PostedGig) throws(DomainError) -> Bid {
        guard let bid = gig.bids[bidID] else {
            throw DomainError(.bidNotFound, "Gig \(gig.id) has no bid \(bidID): check the bid id.")
        }
        return bid
    }

    private static func requireBidder(_ freelancerID: FreelancerID, of bid: Bid, doing action: String)
        throws(DomainError)
    {
        guard bid.freelancerID == freelancerID else {
            throw DomainError(
                .notAllowed, "Bid \(bid.id) belongs to another freelancer: only its bidder may \(action) it.")
        }
    }

    private static func requireOpen(_ gig: PostedGig) throws(DomainError) {
        guard gig.status == .open else {
            throw DomainError(.gigNotOpen, "Gig \(gig.id) is \(describe(gig.status)) and takes no more bids or awards.")
        }
    }

    private static func requireLive(_ bid: Bid) throws(DomainError) {
        guard bid.status == .live else {
            let state =
                switch bid.status {
                case .live: "live"
                case .withdrawn: "withdrawn"
                case .declined: "declined"
                case .accepted: "accepted"
                case .lapsed: "lapsed"
                }
            throw DomainError(.bidNotLive, "Bid \(bid.id) is \(state), not live: only a live bid can be changed.")
        }
    }

    private static func requireBiddingOpen(_ gig: PostedGig, at time: Date) throws(DomainError) {
        guard time < gig.biddingClosesAt else {
            throw DomainError(.biddingClosed, "Bidding on gig \(gig.id) closed at its biddingClosesAt: it is too late.")
        }
    }

    private static func validateOffer(_ amount: Money, estimatedDays: Int, on gig: PostedGig) throws(DomainError) {
        guard amount.currency == gig.currency else {
            throw DomainError(
                .currencyMismatch,
                "The bid is in \(amount.currency) but gig \(gig.id) is budgeted in \(gig.currency): bid in \(gig.currency)."
            )
        }
        try Validate.positiveAmount(amount, field: "amount")
        try Validate.number(estimatedDays, field: "estimatedDays", in: MarketplaceLimits.estimatedDays)
    }

    private static func lapseLiveBids(of gig: inout PostedGig) {
        for (id, bid) in gig.bids where bid.status == .live {
            gig.bids[id]?.status = .lapsed
        }
    }

    private static func describe(_ status: PostedGig.Status) -> String {
        switch status {
        case .open: "open"
        case .awarded: "awarded"
        case .closed(let reason): "closed (\(reason.rawValue))"
        }
    }
}
