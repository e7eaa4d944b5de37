import Foundation
import Marketplace
import Testing

@Suite struct ContractDeciderTests {
    typealias F = Fixtures
    let client = ActorRef.client(Fixtures.clientA)
    let freelancer = ActorRef.freelancer(Fixtures.alice)
    let started = Fixtures.contractStarted()
    let delivered = Fixtures.deliverySubmitted()
    let d1 = Fixtures.delivery(1)
    let x1 = Fixtures.dispute(1)

    var invoice: String { "INV-2026-" + F.contractA.uuid.uuidString.replacingOccurrences(of: "-", with: "") }

    func payment(gross: Int64 = 300_000, fee: Int64 = 30_000) -> ContractEvent {
        .paymentReleased(
            .init(
                contractID: F.contractA, invoiceNumber: invoice, gross: F.eur(gross), platformFee: F.eur(fee),
                net: F.eur(gross - fee)))
    }

    var completed: ContractEvent { .contractCompleted(.init(contractID: F.contractA)) }
    var changes: ContractEvent {
        .changesRequested(.init(contractID: F.contractA, deliveryID: d1, reason: "Add the eval set."))
    }
    var approvedByClient: [ContractEvent] {
        [.deliveryApproved(.init(contractID: F.contractA, deliveryID: d1, approvedBy: client)), payment(), completed]
    }
    func opened(by actor: ActorRef = .client(Fixtures.clientA)) -> ContractEvent {
        .disputeOpened(.init(contractID: F.contractA, disputeID: x1, openedBy: actor, reason: "Missed scope."))
    }
    func resolved(_ resolution: DisputeResolution) -> ContractEvent {
        .disputeResolved(
            .init(contractID: F.contractA, disputeID: x1, resolvedBy: F.admin, resolution: resolution, note: "Ruling."))
    }
    var cancelled: ContractEvent { .contractCancelled(.init(contractID: F.contractA, cancelledBy: F.admin)) }

    // MARK: Commands

    func submit(
        _ actor: ActorRef = .freelancer(Fixtures.alice), delivery: Int = 1, note: String = "Model and report attached.",
        artifacts: [String] = ["s3://deliveries/model.safetensors"], at time: Date = Fixtures.day(20)
    ) -> ContractCommand {
        .submitDelivery(
            .init(
                context: F.context(actor, at: time), contractID: F.contractA, deliveryID: F.delivery(delivery),
                note: note, artifacts: artifacts))
    }
    func requestChanges(
        _ actor: ActorRef = .client(Fixtures.clientA), delivery: Int = 1, reason: String = "Add the eval set."
    ) -> ContractCommand {
        .requestChanges(
            .init(
                context: F.context(actor, at: F.day(21)), contractID: F.contractA, deliveryID: F.delivery(delivery),
                reason: reason))
    }
    func approve(_ actor: ActorRef = .client(Fixtures.clientA), delivery: Int = 1) -> ContractCommand {
        .approveDelivery(
            .init(context: F.context(actor, at: F.day(22)), contractID: F.contractA, deliveryID: F.delivery(delivery)))
    }
    func autoApprove(_ actor: ActorRef = .system, delivery: Int = 1, at time: Date = Fixtures.day(34))
        -> ContractCommand
    {
        .autoApproveDelivery(
            .init(context: F.context(actor, at: time), contractID: F.contractA, deliveryID: F.delivery(delivery)))
    }
    func openDispute(_ actor: ActorRef = .client(Fixtures.clientA), dispute: Int = 1, reason: String = "Missed scope.")
        -> ContractCommand
    {
        .openDispute(
            .init(
                context: F.context(actor, at: F.day(21)), contractID: F.contractA, disputeID: F.dispute(dispute),
                reason: reason))
    }
    func resolve(_ resolution: DisputeResolution, _ actor: ActorRef = Fixtures.admin, dispute: Int = 1)
        -> ContractCommand
    {
        .resolveDispute(
            .init(
                context: F.context(actor, at: F.day(25)), contractID: F.contractA, disputeID: F.dispute(dispute),
                resolution: resolution, note: "Ruling."))
    }
    func review(_ actor: ActorRef, rating: Int = 5, text: String = "Great work.") -> ContractCommand {
        .submitReview(
            .init(context: F.context(actor, at: F.day(30)), contractID: F.contractA, rating: rating, text: text))
    }

    // MARK: Existence

    @Test func everyCommandNeedsAStartedContract() {
        for command in [
            submit(), requestChanges(), approve(), autoApprove(), openDispute(), resolve(.resumeWork), review(client),
        ] {
            Given(ContractDecider.self).when(command).thenFails(.contractNotFound)
        }
    }

    // MARK: Deliver

    @Test func theFreelancerDelivers() {
        Given(ContractDecider.self, [started]).when(submit()).then([delivered])
        Given(ContractDecider.self, [started]).when(submit(at: F.day(20).addingTimeInterval(0.0004))).then([delivered])
    }

    @Test func onlyTheContractsFreelancerDelivers() {
        Given(ContractDecider.self, [started]).when(submit(client)).thenFails(.notContractFreelancer)
        Given(ContractDecider.self, [started]).when(submit(.freelancer(F.bob))).thenFails(.notContractFreelancer)
        Given(ContractDecider.self, [started]).when(submit(F.admin)).thenFails(.notContractFreelancer)
    }

    @Test func oneDeliveryPendingAtATime() {
        Given(ContractDecider.self, [started, delivered]).when(submit(delivery: 2)).thenFails(.deliveryPending)
        Given(ContractDecider.self, [started, delivered, changes]).when(submit(delivery: 2)).then([
            F.deliverySubmitted(F.delivery(2))
        ])
    }

    @Test func deliveriesNeedAnActiveContract() {
        Given(ContractDecider.self, [started, opened()]).when(submit()).thenFails(.contractNotActive)
        Given(ContractDecider.self, [started, delivered] + approvedByClient).when(submit(delivery: 2)).thenFails(
            .contractNotActive)
        Given(ContractDecider.self, [started, opened(), resolved(.refundClient), cancelled]).when(submit()).thenFails(
            .contractNotActive)
    }

    @Test func deliveringAgainDecidesNothingButIdsAreNotReused() {
        Given(ContractDecider.self, [started, delivered]).when(submit()).thenNothing()
        Given(ContractDecider.self, [started, delivered, changes]).when(submit()).thenNothing()
        Given(ContractDecider.self, [started, delivered, changes]).when(submit(note: "v2")).thenFails(.idInUse)
    }

    @Test func deliveriesAreValidated() {
        let given = Given(ContractDecider.self, [started])
        given.when(submit(note: String(repeating: "n", count: 5001))).thenFails(.invalidInput)
        given.when(submit(artifacts: (0...20).map { "s3://x/\($0)" })).thenFails(.invalidInput)
        given.when(submit(artifacts: [""])).thenFails(.invalidInput)
        given.when(submit(artifacts: ["s3://x\ny"])).thenFails(.invalidInput)
        given.when(submit(note: "", artifacts: [])).thenSucceeds()
    }

    // MARK: Request changes / approve

    @Test func theClientRequestsChanges() {
        Given(ContractDecider.self, [started, delivered]).when(requestChanges()).then([changes])
        Given(ContractDecider.self, [started, delivered, changes]).when(requestChanges(reason: "Other")).thenNothing()
        #expect(ContractDecider.fold([started, delivered, changes]).contract?.status == .active)
    }

    @Test func requestChangesRules() {
        Given(ContractDecider.self, [started, delivered]).when(requestChanges(freelancer)).thenFails(.notContractClient)
        Given(ContractDecider.self, [started, delivered]).when(requestChanges(.client(F.clientB))).thenFails(
            .notContractClient)
        Given(ContractDecider.self, [started]).when(requestChanges()).thenFails(.noPendingDelivery)
        Given(ContractDecider.self, [started, delivered]).when(requestChanges(delivery: 2)).thenFails(
            .noPendingDelivery)
        Given(ContractDecider.self, [started, delivered] + approvedByClient).when(requestChanges()).thenFails(
            .noPendingDelivery)
        Given(ContractDecider.self, [started, delivered, opened()]).when(requestChanges()).thenFails(.contractDisputed)
        Given(ContractDecider.self, [started, delivered]).when(requestChanges(reason: "")).thenFails(.invalidInput)
        Given(ContractDecider.self, [started, delivered]).when(
            requestChanges(reason: String(repeating: "r", count: 2001))
        )
        .thenFails(.invalidInput)
    }

    @Test func approvalReleasesPaymentAndCompletesTheContract() {
        Given(ContractDecider.self, [started, delivered]).when(approve()).then(approvedByClient)
        let state = ContractDecider.fold([started, delivered] + approvedByClient)
        #expect(state.contract?.status == .completed)
        #expect(state.contract?.payment?.net == F.eur(270_000))
        #expect(state.contract?.deliveries[d1]?.status == .approved(client))
    }

    @Test func theFeeRoundsHalfToEvenAndGrossIsFeePlusNet() throws {
        let odd = F.contractStarted(amount: 105)  // 10 % of 1.05 EUR = 10.5 cents → 10
        let decision = Given(ContractDecider.self, [odd, delivered]).when(approve()).decision() ?? []
        guard case .paymentReleased(let payment) = decision.dropFirst().first else {
            Issue.record("no payment in \(decision)")
            return
        }
        #expect(payment.platformFee == F.eur(10))
        #expect(payment.net == F.eur(95))
        #expect(try payment.platformFee.adding(payment.net) == payment.gross)
        #expect(payment.invoiceNumber == invoice)
    }

    @Test func approvingTwiceDecidesNothing() {
        Given(ContractDecider.self, [started, delivered] + approvedByClient).when(approve()).thenNothing()
    }

    @Test func approveRules() {
        Given(ContractDecider.self, [started, delivered]).when(approve(freelancer)).thenFails(.notContractClient)
        Given(ContractDecider.self, [started, delivered]).when(approve(F.admin)).thenFails(.notContractClient)
        Given(ContractDecider.self, [started]).when(approve()).thenFails(.noPendingDelivery)
        Given(ContractDecider.self, [started, delivered, changes]).when(approve()).thenFails(.noPendingDelivery)
        Given(ContractDecider.self, [started, delivered, opened()]).when(approve()).thenFails(.contractDisputed)
    }

    // MARK: Auto-approve

    @Test func theTimerApprovesOnceTheReviewWindowPassed() {
        let expected: [ContractEvent] = [
            .deliveryApproved(.init(contractID: F.contractA, deliveryID: d1, approvedBy: .system)), payment(),
            completed,
        ]
        Given(ContractDecider.self, [started, delivered]).when(autoApprove(at: F.day(34))).then(expected)
        Given(ContractDecider.self, [started, delivered]).when(autoApprove(at: F.day(90))).then(expected)
    }

    @Test func theTimerRefusesToFireEarly() {
        Given(ContractDecider.self, [started, delivered]).when(autoApprove(at: F.day(34).addingTimeInterval(-0.001)))
            .thenFails(.reviewWindowOpen)
        let shortWindow = F.contractStarted(terms: .init(reviewWindowDays: 3, platformFeeBasisPoints: 1000))
        Given(ContractDecider.self, [shortWindow, delivered]).when(autoApprove(at: F.day(23))).thenSucceeds()
    }

    @Test func theReviewTimerIsIdempotentAndMootWhenTheDeliveryMovedOn() {
        Given(ContractDecider.self, [started, delivered] + approvedByClient).when(autoApprove()).thenNothing()
        Given(ContractDecider.self, [started, delivered, changes]).when(autoApprove()).thenNothing()
        Given(ContractDecider.self, [started, delivered, opened()]).when(autoApprove()).thenNothing()
        Given(ContractDecider.self, [started, delivered, opened(), resolved(.refundClient), cancelled]).when(
            autoApprove()
        ).thenNothing()
    }

    @Test func autoApproveRules() {
        Given(ContractDecider.self, [started, delivered]).when(autoApprove(client)).thenFails(.notAllowed)
        Given(ContractDecider.self, [started, delivered]).when(autoApprove(F.admin)).thenFails(.notAllowed)
        Given(ContractDecider.self, [started]).when(autoApprove()).thenFails(.noPendingDelivery)
    }

    // MARK: Disputes

    @Test func eitherPartyOrAnAdminOpensADispute() {
        Given(ContractDecider.self, [started]).when(openDispute()).then([opened()])
        Given(ContractDecider.self, [started, delivered]).when(openDispute(freelancer)).then([opened(by: freelancer)])
        Given(ContractDecider.self, [started]).when(openDispute(F.admin)).then([opened(by: F.admin)])
        Given(ContractDecider.self, [started]).when(openDispute(.client(F.clientB))).thenFails(.notAllowed)
        Given(ContractDecider.self, [started]).when(openDispute(.system)).thenFails(.notAllowed)
    }

    @Test func openingTheSameDisputeAgainDecidesNothing() {
        Given(ContractDecider.self, [started, opened()]).when(openDispute()).thenNothing()
        Given(ContractDecider.self, [started, opened()]).when(openDispute(reason: "Other")).thenFails(.idInUse)
        Given(ContractDecider.self, [started, opened(), resolved(.resumeWork)]).when(openDispute(freelancer)).thenFails(
            .idInUse)
    }

    @Test func onlyActiveOrDeliveredUnpaidContractsAreDisputed() {
        Given(ContractDecider.self, [started, opened()]).when(openDispute(dispute: 2)).thenFails(.nothingToDispute)
        Given(ContractDecider.self, [started, delivered] + approvedByClient).when(openDispute()).thenFails(
            .nothingToDispute)
        Given(ContractDecider.self, [started, opened(), resolved(.refundClient), cancelled]).when(
            openDispute(dispute: 2)
        )
        .thenFails(.nothingToDispute)
        Given(ContractDecider.self, [started, opened(), resolved(.resumeWork)]).when(openDispute(dispute: 2))
            .thenSucceeds()
        Given(ContractDecider.self, [started]).when(openDispute(reason: " ")).thenFails(.invalidInput)
    }

    @Test func resumingWorkRestoresThePendingDelivery() {
        Given(ContractDecider.self, [started, delivered, opened()]).when(resolve(.resumeWork)).then([
            resolved(.resumeWork)
        ])
        let state = ContractDecider.fold([started, delivered, opened(), resolved(.resumeWork)])
        #expect(state.contract?.status == .delivered(d1))
        Given(ContractDecider.self, [started, delivered, opened(), resolved(.resumeWork)]).when(approve()).then(
            approvedByClient)
    }

    @Test func aRulingPaysTheFreelancerOrRefundsTheClient() {
        Given(ContractDecider.self, [started, opened()]).when(resolve(.payFreelancer)).then([
            resolved(.payFreelancer), payment(), completed,
        ])
        Given(ContractDecider.self, [started, opened()]).when(resolve(.refundClient)).then([
            resolved(.refundClient), cancelled,
        ])
        #expect(
            ContractDecider.fold([started, opened(), resolved(.refundClient), cancelled]).contract?.status == .cancelled
        )
        #expect(ContractDecider.fold([started, opened(), resolved(.refundClient), cancelled]).contract?.payment == nil)
    }

    @Test func aResolutionIsFinal() {
        let paid: [ContractEvent] = [started, delivered, opened(), resolved(.payFreelancer), payment(), completed]
        Given(ContractDecider.self, paid).when(resolve(.payFreelancer)).thenNothing()
        Given(ContractDecider.self, paid).when(resolve(.refundClient)).thenFails(.nothingToDispute)
        Given(ContractDecider.self, paid).when(approve()).thenFails(.noPendingDelivery)
        Given(ContractDecider.self, paid).when(autoApprove()).thenNothing()
    }

    @Test func resolveRules() {
        Given(ContractDecider.self, [started, opened()]).when(resolve(.resumeWork, client)).thenFails(.notAllowed)
        Given(ContractDecider.self, [started, opened()]).when(resolve(.resumeWork, .system)).thenFails(.notAllowed)
        Given(ContractDecider.self, [started]).when(resolve(.resumeWork)).thenFails(.nothingToDispute)
        Given(ContractDecider.self, [started, opened()]).when(resolve(.resumeWork, dispute: 2)).thenFails(
            .nothingToDispute)
    }

    // MARK: Reviews

    @Test func bothSidesReviewOnceTheContractEnded() {
        let ended: [ContractEvent] = [started, delivered] + approvedByClient
        Given(ContractDecider.self, ended).when(review(client)).then([
            .reviewSubmitted(.init(contractID: F.contractA, authorSide: .client, rating: 5, text: "Great work."))
        ])
        Given(ContractDecider.self, ended).when(review(freelancer, rating: 4, text: "")).then([
            .reviewSubmitted(.init(contractID: F.contractA, authorSide: .freelancer, rating: 4, text: ""))
        ])
        Given(ContractDecider.self, [started, opened(), resolved(.refundClient), cancelled]).when(
            review(client, rating: 1)
        ).thenSucceeds()
    }

    @Test func reviewsWaitForTheEnd() {
        Given(ContractDecider.self, [started]).when(review(client)).thenFails(.contractNotEnded)
        Given(ContractDecider.self, [started, delivered]).when(review(freelancer)).thenFails(.contractNotEnded)
        Given(ContractDecider.self, [started, opened()]).when(review(freelancer)).thenFails(.contractNotEnded)
    }

    @Test func oneReviewPerSide() {
        let reviewed: [ContractEvent] =
            [started, delivered] + approvedByClient + [
                .reviewSubmitted(.init(contractID: F.contractA, authorSide: .client, rating: 5, text: "Great work."))
            ]
        Given(ContractDecider.self, reviewed).when(review(client)).thenNothing()
        Given(ContractDecider.self, reviewed).when(review(client, rating: 4)).thenFails(.duplicateReview)
        Given(ContractDecider.self, reviewed).when(review(freelancer)).thenSucceeds()
    }

    @Test func reviewRules() {
        let ended: [ContractEvent] = [started, delivered] + approvedByClient
        Given(ContractDecider.self, ended).when(review(client, rating: 0)).thenFails(.invalidRating)
        Given(ContractDecider.self, ended).when(review(client, rating: 6)).thenFails(.invalidRating)
        Given(ContractDecider.self, ended).when(review(client, text: String(repeating: "t", count: 2001))).thenFails(
            .invalidInput)
        Given(ContractDecider.self, ended).when(review(client, text: "Escape\u{1B}[31m")).thenFails(.invalidInput)
        Given(ContractDecider.self, ended).when(review(.client(F.clientB))).thenFails(.notAllowed)
        Given(ContractDecider.self, ended).when(review(F.admin)).thenFails(.notAllowed)
    }

    // MARK: Invoice

    @Test func invoiceNumbersAreDeterministic() throws {
        let number = try Invoice.number(contractID: F.contractA, issuedAt: F.day(22))
        #expect(number == "INV-2026-C0000000000040008000000000000001")
        #expect(
            try Invoice.number(contractID: F.contractA, issuedAt: F.day(-1))
                == "INV-2025-C0000000000040008000000000000001")
        expectFailure(.invalidInput) {
            _ = try Invoice.number(contractID: F.contractA, issuedAt: Date(timeIntervalSince1970: -5))
        }
    }
}
