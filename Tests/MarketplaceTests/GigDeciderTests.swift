import Foundation
import Marketplace
import Testing

@Suite struct GigDeciderTests {
    typealias F = Fixtures
    let owner = ActorRef.client(Fixtures.clientA)
    let alice = ActorRef.freelancer(Fixtures.alice)
    let bob = ActorRef.freelancer(Fixtures.bob)
    let posted = Fixtures.gigPosted()
    var aliceBid: GigEvent { F.bidPlaced(F.bid(1), by: F.alice) }
    var bobBid: GigEvent { F.bidPlaced(F.bid(2), by: F.bob, amount: 250_000, days: 30) }

    // MARK: Commands

    func post(
        _ actor: ActorRef = .client(Fixtures.clientA), title: String = "Fine-tune a support LLM",
        description: String = "Fine-tune on 20k tickets.\nReport metrics.",
        skills: [String] = ["nlp", "llm-fine-tuning"],
        min: Money = Fixtures.eur(200_000), max: Money = Fixtures.eur(500_000), closesAt: Date = Fixtures.deadline,
        clientRegistered: Bool = true, at time: Date = Fixtures.t0
    ) -> GigCommand {
        .postGig(
            .init(
                context: F.context(actor, at: time), gigID: F.gigA, clientID: F.clientA, title: title,
                description: description,
                skills: skills, budgetMin: min, budgetMax: max, biddingClosesAt: closesAt,
                clientRegistered: clientRegistered))
    }

    func place(
        _ actor: ActorRef = .freelancer(Fixtures.alice), bid: Int = 1, amount: Money = Fixtures.eur(300_000),
        days: Int = 20,
        registered: Bool = true, at time: Date = Fixtures.day(1)
    ) -> GigCommand {
        .placeBid(
            .init(
                context: F.context(actor, at: time), gigID: F.gigA, bidID: F.bid(bid), amount: amount,
                estimatedDays: days,
                bidderRegistered: registered))
    }

    func revise(
        _ actor: ActorRef = .freelancer(Fixtures.alice), bid: Int = 1, amount: Money = Fixtures.eur(280_000),
        days: Int = 18,
        at time: Date = Fixtures.day(2)
    ) -> GigCommand {
        .reviseBid(
            .init(
                context: F.context(actor, at: time), gigID: F.gigA, bidID: F.bid(bid), amount: amount,
                estimatedDays: days))
    }

    func withdraw(_ actor: ActorRef = .freelancer(Fixtures.alice), bid: Int = 1, at time: Date = Fixtures.day(2))
        -> GigCommand
    {
        .withdrawBid(.init(context: F.context(actor, at: time), gigID: F.gigA, bidID: F.bid(bid)))
    }

    func decline(_ actor: ActorRef = .client(Fixtures.clientA), bid: Int = 1, reason: BidDeclineReason = .priceTooHigh)
        -> GigCommand
    {
        .declineBid(.init(context: F.context(actor, at: F.day(2)), gigID: F.gigA, bidID: F.bid(bid), reason: reason))
    }

    func accept(
        _ actor: ActorRef = .client(Fixtures.clientA), bid: Int = 1, contract: ContractID = Fixtures.contractA,
        terms: ContractTerms = .standard, at time: Date = Fixtures.day(3)
    ) -> GigCommand {
        .acceptBid(
            .init(
                context: F.context(actor, at: time), gigID: F.gigA, bidID: F.bid(bid), contractID: contract,
                terms: terms))
    }

    func cancel(_ actor: ActorRef = .client(Fixtures.clientA)) -> GigCommand {
        .cancelGig(.init(context: F.context(actor, at: F.day(2)), gigID: F.gigA))
    }

    func expire(_ actor: ActorRef = .system, at time: Date = Fixtures.deadline) -> GigCommand {
        .expireGig(.init(context: F.context(actor, at: time), gigID: F.gigA))
    }

    func closeAwarded(
        _ actor: ActorRef = .system, contract: ContractID = Fixtures.contractA,
        outcome: GigCommand.CloseAwardedGig.ContractOutcome = .completed
    ) -> GigCommand {
        .closeAwardedGig(
            .init(context: F.context(actor, at: F.day(40)), gigID: F.gigA, contractID: contract, outcome: outcome))
    }

    func closed(_ reason: GigCloseReason) -> GigEvent { .gigClosed(.init(gigID: F.gigA, reason: reason)) }

    // MARK: Post gig

    @Test func postsAGigWithSortedSkills() {
        Given(GigDecider.self).when(post()).then([posted])
        Given(GigDecider.self).when(post(F.admin)).then([posted])
    }

    @Test func mergesDuplicateSkillsAndRoundsTheDeadlineToMilliseconds() {
        let decision = Given(GigDecider.self)
            .when(post(skills: ["nlp", "llm-fine-tuning", "nlp"], closesAt: F.deadline.addingTimeInterval(0.000_4)))
        decision.then([posted])
    }

    @Test func onlyTheClientOrAnAdminMayPost() {
        Given(GigDecider.self).when(post(.client(F.clientB))).thenFails(.notAllowed)
        Given(GigDecider.self).when(post(alice)).thenFails(.notAllowed)
        Given(GigDecider.self).when(post(.system)).thenFails(.notAllowed)
    }

    @Test func theClientMustExist() {
        Given(GigDecider.self).when(post(clientRegistered: false)).thenFails(.clientNotFound)
    }

    @Test func validatesTitleAndDescription() {
        let given = Given(GigDecider.self)
        given.when(post(title: "")).thenFails(.invalidInput)
        given.when(post(title: " \t ")).thenFails(.invalidInput)
        given.when(post(title: String(repeating: "x", count: 201))).thenFails(.invalidInput)
        given.when(post(title: "Line\nbreak")).thenFails(.invalidInput)
        given.when(post(title: "Bell\u{7}")).thenFails(.invalidInput)
        given.when(post(title: "Separator\u{2028}")).thenFails(.invalidInput)
        given.when(post(title: String(repeating: "é", count: 200))).thenSucceeds()
        given.when(post(description: String(repeating: "x", count: 5001))).thenFails(.invalidInput)
        given.when(post(description: "Windows\r\nline")).thenFails(.invalidInput)
        given.when(post(description: "Null\u{0}")).thenFails(.invalidInput)
        given.when(post(description: "")).thenSucceeds()
        given.when(post(description: "Tabs\tand\nnewlines")).thenSucceeds()
    }

    @Test func needsAtLeastOneKnownSkill() {
        Given(GigDecider.self).when(post(skills: [])).thenFails(.unknownSkill)
        Given(GigDecider.self).when(post(skills: ["nlp", "telepathy"])).thenFails(.unknownSkill)
        Given(GigDecider.self).when(post(skills: SkillTaxonomy.all.prefix(21).map(\.slug))).thenFails(.invalidInput)
        Given(GigDecider.self).when(post(skills: SkillTaxonomy.all.prefix(20).map(\.slug))).thenSucceeds()
    }

    @Test func needsAPositiveOrderedBudgetInOneCurrency() {
        let given = Given(GigDecider.self)
        given.when(post(min: F.eur(0))).thenFails(.invalidBudget)
        given.when(post(min: F.eur(-5))).thenFails(.invalidBudget)
        given.when(post(min: F.eur(600_000))).thenFails(.invalidBudget)
        given.when(post(max: F.eur(MarketplaceLimits.maximumAmountMinorUnits + 1))).thenFails(.invalidBudget)
        given.when(post(min: F.usd(200_000))).thenFails(.currencyMismatch)
        given.when(post(min: F.eur(500_000))).thenSucceeds()
    }

    @Test func needsADeadlineAheadButNotTooFar() {
        let given = Given(GigDecider.self)
        given.when(post(closesAt: F.t0)).thenFails(.invalidInput)
        given.when(post(closesAt: F.day(-1))).thenFails(.invalidInput)
        given.when(post(closesAt: F.day(366))).thenFails(.invalidInput)
        given.when(post(closesAt: Date(timeIntervalSince1970: 1e12))).thenFails(.invalidInput)
    }

    @Test func repostingIsIdempotentButAnIdIsNotReused() {
        Given(GigDecider.self, [posted]).when(post()).thenNothing()
        Given(GigDecider.self, [posted]).when(post(skills: ["nlp"])).thenFails(.idInUse)
        Given(GigDecider.self, [posted]).when(post(title: "Another gig")).thenFails(.idInUse)
    }

    // MARK: Place bid

    @Test func placesABid() {
        Given(GigDecider.self, [posted]).when(place()).then([aliceBid])
    }

    @Test func theGigMustExist() {
        Given(GigDecider.self).when(place()).thenFails(.gigNotFound)
        Given(GigDecider.self).when(withdraw()).thenFails(.gigNotFound)
        Given(GigDecider.self).when(accept()).thenFails(.gigNotFound)
        Given(GigDecider.self).when(expire()).thenFails(.gigNotFound)
    }

    @Test func onlyRegisteredFreelancersBid() {
        Given(GigDecider.self, [posted]).when(place(owner)).thenFails(.notAllowed)
        Given(GigDecider.self, [posted]).when(place(F.admin)).thenFails(.notAllowed)
        Given(GigDecider.self, [posted]).when(place(registered: false)).thenFails(.freelancerNotFound)
    }

    @Test func theGigsClientCannotBid() {
        Given(GigDecider.self, [posted]).when(place(.freelancer(F.clientAsFreelancer))).thenFails(.selfBid)
    }

    @Test func onlyOpenGigsTakeBids() {
        Given(GigDecider.self, [posted, closed(.cancelled)]).when(place()).thenFails(.gigNotOpen)
        Given(GigDecider.self, [posted, bobBid, F.bidAccepted(F.bid(2), by: F.bob, amount: 250_000)]).when(place())
            .thenFails(.gigNotOpen)
    }

    @Test func bidsStopAtTheDeadline() {
        Given(GigDecider.self, [posted]).when(place(at: F.deadline)).thenFails(.biddingClosed)
        Given(GigDecider.self, [posted]).when(place(at: F.deadline.addingTimeInterval(-0.001))).then([
            .bidPlaced(
                .init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice, amount: F.eur(300_000), estimatedDays: 20))
        ])
    }

    @Test func oneLiveBidPerFreelancer() {
        Given(GigDecider.self, [posted, aliceBid]).when(place(bid: 3)).thenFails(.duplicateBid)
        let withdrawn = GigEvent.bidWithdrawn(.init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice))
        Given(GigDecider.self, [posted, aliceBid, withdrawn]).when(place(bid: 3)).then([
            F.bidPlaced(F.bid(3), by: F.alice)
        ])
        Given(GigDecider.self, [posted, aliceBid]).when(place(bob, bid: 2, amount: F.eur(250_000), days: 30)).then([
            bobBid
        ])
    }

    @Test func bidsAreInTheGigsCurrencyAndPositive() {
        let given = Given(GigDecider.self, [posted])
        given.when(place(amount: F.usd(300_000))).thenFails(.currencyMismatch)
        given.when(place(amount: F.eur(0))).thenFails(.invalidAmount)
        given.when(place(amount: F.eur(-1))).thenFails(.invalidAmount)
        given.when(place(amount: F.eur(MarketplaceLimits.maximumAmountMinorUnits + 1))).thenFails(.invalidAmount)
        given.when(place(days: 0)).thenFails(.invalidInput)
        given.when(place(days: 366)).thenFails(.invalidInput)
        given.when(place(amount: F.eur(1))).thenSucceeds()  // below the budget is allowed
    }

    @Test func placingTheSameBidAgainDecidesNothing() {
        Given(GigDecider.self, [posted, aliceBid]).when(place()).thenNothing()
        let withdrawn = GigEvent.bidWithdrawn(.init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice))
        Given(GigDecider.self, [posted, aliceBid, withdrawn]).when(place()).thenNothing()
        Given(GigDecider.self, [posted, aliceBid, closed(.expired)]).when(place()).thenNothing()
    }

    @Test func aBidIdIsNotReused() {
        Given(GigDecider.self, [posted, aliceBid]).when(place(amount: F.eur(310_000))).thenFails(.idInUse)
        Given(GigDecider.self, [posted, aliceBid]).when(place(bob)).thenFails(.idInUse)
    }

    // MARK: Revise bid

    @Test func revisesALiveBid() {
        Given(GigDecider.self, [posted, aliceBid]).when(revise()).then([
            .bidRevised(
                .init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice, amount: F.eur(280_000), estimatedDays: 18))
        ])
    }

    @Test func revisingToTheCurrentValuesDecidesNothing() {
        Given(GigDecider.self, [posted, aliceBid]).when(revise(amount: F.eur(300_000), days: 20)).thenNothing()
    }

    @Test func revisionRules() {
        let withdrawn = GigEvent.bidWithdrawn(.init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice))
        Given(GigDecider.self, [posted, aliceBid]).when(revise(bob)).thenFails(.notAllowed)
        Given(GigDecider.self, [posted, aliceBid]).when(revise(owner)).thenFails(.notAllowed)
        Given(GigDecider.self, [posted, aliceBid]).when(revise(bid: 9)).thenFails(.bidNotFound)
        Given(GigDecider.self, [posted, aliceBid, withdrawn]).when(revise()).thenFails(.bidNotLive)
        Given(GigDecider.self, [posted, aliceBid, closed(.cancelled)]).when(revise()).thenFails(.gigNotOpen)
        Given(GigDecider.self, [posted, aliceBid]).when(revise(at: F.deadline)).thenFails(.biddingClosed)
        Given(GigDecider.self, [posted, aliceBid]).when(revise(amount: F.usd(1))).thenFails(.currencyMismatch)
        Given(GigDecider.self, [posted, aliceBid]).when(revise(amount: F.eur(0))).thenFails(.invalidAmount)
        Given(GigDecider.self, [posted, aliceBid]).when(revise(days: 400)).thenFails(.invalidInput)
    }

    // MARK: Withdraw / decline

    @Test func withdrawsALiveBidEvenAfterTheDeadline() {
        let withdrawn = GigEvent.bidWithdrawn(.init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice))
        Given(GigDecider.self, [posted, aliceBid]).when(withdraw()).then([withdrawn])
        Given(GigDecider.self, [posted, aliceBid]).when(withdraw(at: F.day(20))).then([withdrawn])
        Given(GigDecider.self, [posted, aliceBid, withdrawn]).when(withdraw()).thenNothing()
    }

    @Test func withdrawRules() {
        let declined = GigEvent.bidDeclined(
            .init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice, reason: .other))
        Given(GigDecider.self, [posted, aliceBid]).when(withdraw(bob)).thenFails(.notAllowed)
        Given(GigDecider.self, [posted, aliceBid]).when(withdraw(owner)).thenFails(.notAllowed)
        Given(GigDecider.self, [posted, aliceBid]).when(withdraw(bid: 9)).thenFails(.bidNotFound)
        Given(GigDecider.self, [posted, aliceBid, declined]).when(withdraw()).thenFails(.bidNotLive)
        Given(GigDecider.self, [posted, aliceBid, closed(.expired)]).when(withdraw()).thenFails(.bidNotLive)
    }

    @Test func theClientDeclinesALiveBid() {
        let declined = GigEvent.bidDeclined(
            .init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice, reason: .priceTooHigh))
        Given(GigDecider.self, [posted, aliceBid]).when(decline()).then([declined])
        Given(GigDecider.self, [posted, aliceBid, declined]).when(decline(reason: .other)).thenNothing()
    }

    @Test func declineRules() {
        let withdrawn = GigEvent.bidWithdrawn(.init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice))
        Given(GigDecider.self, [posted, aliceBid]).when(decline(.client(F.clientB))).thenFails(.notAllowed)
        Given(GigDecider.self, [posted, aliceBid]).when(decline(alice)).thenFails(.notAllowed)
        Given(GigDecider.self, [posted, aliceBid]).when(decline(bid: 9)).thenFails(.bidNotFound)
        Given(GigDecider.self, [posted, aliceBid, withdrawn]).when(decline()).thenFails(.bidNotLive)
    }

    // MARK: Accept

    @Test func acceptingABidAwardsTheGigAndStartsTheContract() throws {
        let revised = GigEvent.bidRevised(
            .init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice, amount: F.eur(280_000), estimatedDays: 18))
        let terms = ContractTerms(reviewWindowDays: 7, platformFeeBasisPoints: 1200)
        let when = Given(GigDecider.self, [posted, aliceBid, bobBid, revised]).when(accept(terms: terms))
        let expected = GigDecision(
            gigID: F.gigA,
            gigEvents: [F.bidAccepted(F.bid(1), by: F.alice, amount: 280_000)],
            startedContract: .init(
                contractID: F.contractA,
                events: [
                    .contractStarted(
                        .init(
                            contractID: F.contractA, gigID: F.gigA, bidID: F.bid(1), clientID: F.clientA,
                            freelancerID: F.alice,
                            amount: F.eur(280_000), estimatedDays: 18, terms: terms))
                ]))
        when.then(expected)

        let writes = try expected.writes()
        #expect(writes.map(\.stream) == [F.gigA.stream, F.contractA.stream])
        #expect(writes.map(\.expectation) == [.versionAsRead, .noStream])
        #expect(writes.map { $0.events.map(\.type) } == [["BidAccepted"], ["ContractStarted"]])
    }

    @Test func otherLiveBidsLapseOnAward() {
        let state = GigDecider.fold([posted, aliceBid, bobBid, F.bidAccepted(F.bid(1), by: F.alice)])
        #expect(state.gig?.status == .awarded)
        #expect(state.gig?.bids[F.bid(1)]?.status == .accepted)
        #expect(state.gig?.bids[F.bid(2)]?.status == .lapsed)
        #expect(state.gig?.award?.contractID == F.contractA)
    }

    @Test func onlyTheGigsClientAccepts() {
        Given(GigDecider.self, [posted, aliceBid]).when(accept(.client(F.clientB))).thenFails(.notGigOwner)
        Given(GigDecider.self, [posted, aliceBid]).when(accept(alice)).thenFails(.notGigOwner)
        Given(GigDecider.self, [posted, aliceBid]).when(accept(F.admin)).thenFails(.notGigOwner)
    }

    @Test func onlyALiveBidIsAccepted() {
        let withdrawn = GigEvent.bidWithdrawn(.init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice))
        Given(GigDecider.self, [posted, aliceBid, withdrawn]).when(accept()).thenFails(.bidNotLive)
        Given(GigDecider.self, [posted, aliceBid]).when(accept(bid: 7)).thenFails(.bidNotFound)
    }

    @Test func aGigIsAwardedOnce() {
        let awarded: [GigEvent] = [posted, aliceBid, bobBid, F.bidAccepted(F.bid(1), by: F.alice)]
        Given(GigDecider.self, awarded).when(accept()).thenNothing()
        Given(GigDecider.self, awarded).when(accept(bid: 2, contract: F.contract(2))).thenFails(.gigAlreadyAwarded)
        Given(GigDecider.self, awarded).when(accept(contract: F.contract(2))).thenFails(.gigAlreadyAwarded)
        Given(GigDecider.self, awarded + [closed(.filled)]).when(accept()).thenNothing()
    }

    @Test func acceptanceNeedsAnOpenGigBeforeTheDeadline() {
        Given(GigDecider.self, [posted, aliceBid, closed(.cancelled)]).when(accept()).thenFails(.gigNotOpen)
        Given(GigDecider.self, [posted, aliceBid]).when(accept(at: F.deadline)).thenFails(.biddingClosed)
    }

    @Test func contractTermsAreValidated() {
        let given = Given(GigDecider.self, [posted, aliceBid])
        given.when(accept(terms: .init(reviewWindowDays: 0, platformFeeBasisPoints: 1000))).thenFails(.invalidInput)
        given.when(accept(terms: .init(reviewWindowDays: 31, platformFeeBasisPoints: 1000))).thenFails(.invalidInput)
        given.when(accept(terms: .init(reviewWindowDays: 14, platformFeeBasisPoints: -1))).thenFails(.invalidInput)
        given.when(accept(terms: .init(reviewWindowDays: 14, platformFeeBasisPoints: 5001))).thenFails(.invalidInput)
    }

    // MARK: Cancel, expire, close

    @Test func theClientCancelsAnOpenGigAndItsBidsLapse() {
        Given(GigDecider.self, [posted, aliceBid]).when(cancel()).then([closed(.cancelled)])
        Given(GigDecider.self, [posted]).when(cancel(F.admin)).then([closed(.cancelled)])
        Given(GigDecider.self, [posted, closed(.cancelled)]).when(cancel()).thenNothing()
        #expect(GigDecider.fold([posted, aliceBid, closed(.cancelled)]).gig?.bids[F.bid(1)]?.status == .lapsed)
    }

    @Test func cancelRules() {
        Given(GigDecider.self, [posted]).when(cancel(.client(F.clientB))).thenFails(.notGigOwner)
        Given(GigDecider.self, [posted]).when(cancel(alice)).thenFails(.notGigOwner)
        Given(GigDecider.self, [posted, aliceBid, F.bidAccepted(F.bid(1), by: F.alice)]).when(cancel()).thenFails(
            .gigNotOpen)
        Given(GigDecider.self, [posted, closed(.expired)]).when(cancel()).thenFails(.gigNotOpen)
    }

    @Test func theTimerExpiresAGigAtItsDeadline() {
        Given(GigDecider.self, [posted, aliceBid]).when(expire()).then([closed(.expired)])
        Given(GigDecider.self, [posted]).when(expire(at: F.day(100))).then([closed(.expired)])
    }

    @Test func theExpiryTimerIsIdempotent() {
        Given(GigDecider.self, [posted, closed(.expired)]).when(expire()).thenNothing()
        Given(GigDecider.self, [posted, closed(.cancelled)]).when(expire()).thenNothing()
        Given(GigDecider.self, [posted, aliceBid, F.bidAccepted(F.bid(1), by: F.alice)]).when(expire()).thenNothing()
    }

    @Test func theExpiryTimerRefusesToFireEarlyOrForOthers() {
        Given(GigDecider.self, [posted]).when(expire(at: F.deadline.addingTimeInterval(-1))).thenFails(
            .deadlineNotPassed)
        Given(GigDecider.self, [posted]).when(expire(owner)).thenFails(.notAllowed)
        Given(GigDecider.self, [posted]).when(expire(F.admin)).thenFails(.notAllowed)
    }

    @Test func anAwardedGigClosesWhenItsContractEnds() {
        let awarded: [GigEvent] = [posted, aliceBid, F.bidAccepted(F.bid(1), by: F.alice)]
        Given(GigDecider.self, awarded).when(closeAwarded()).then([closed(.filled)])
        Given(GigDecider.self, awarded).when(closeAwarded(outcome: .cancelled)).then([closed(.cancelled)])
        Given(GigDecider.self, awarded).when(closeAwarded(F.admin)).then([closed(.filled)])
        Given(GigDecider.self, awarded + [closed(.filled)]).when(closeAwarded()).thenNothing()
    }

    @Test func closeAwardedRules() {
        let awarded: [GigEvent] = [posted, aliceBid, F.bidAccepted(F.bid(1), by: F.alice)]
        Given(GigDecider.self, awarded).when(closeAwarded(owner)).thenFails(.notAllowed)
        Given(GigDecider.self, awarded).when(closeAwarded(contract: F.contract(9))).thenFails(.gigNotAwarded)
        Given(GigDecider.self, [posted]).when(closeAwarded()).thenFails(.gigNotAwarded)
        Given(GigDecider.self, awarded + [closed(.filled)]).when(closeAwarded(outcome: .cancelled)).thenFails(
            .gigNotAwarded)
    }

    // MARK: Evolve

    @Test func evolveIgnoresEventsThatDoNotFit() {
        #expect(GigDecider.fold([aliceBid]) == .notPosted)
        let state = GigDecider.fold([posted, aliceBid])
        #expect(GigDecider.evolve(state, posted) == state)
        #expect(GigDecider.evolve(state, aliceBid) == state)
        #expect(
            GigDecider.evolve(
                state,
                .bidRevised(
                    .init(
                        gigID: F.gigA, bidID: F.bid(5), freelancerID: F.bob,
                        amount: F.eur(1), estimatedDays: 1))) == state)
    }

    @Test func revisionsUpdateTheBid() {
        let revised = GigEvent.bidRevised(
            .init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice, amount: F.eur(280_000), estimatedDays: 18))
        let bid = GigDecider.fold([posted, aliceBid, revised]).gig?.bids[F.bid(1)]
        #expect(bid?.amount == F.eur(280_000))
        #expect(bid?.estimatedDays == 18)
        #expect(bid?.revisions == 1)
        #expect(bid?.placement.amount == F.eur(300_000))
    }
}
