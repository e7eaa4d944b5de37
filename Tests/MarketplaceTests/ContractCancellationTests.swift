import Foundation
import Marketplace
import Testing

@Suite struct ContractCancellationTests {
    typealias F = Fixtures
    let client = ActorRef.client(Fixtures.clientA)
    let freelancer = ActorRef.freelancer(Fixtures.alice)
    let started = Fixtures.contractStarted()
    let delivered = Fixtures.deliverySubmitted()

    func cancel(_ actor: ActorRef) -> ContractCommand {
        .cancelContract(.init(context: F.context(actor, at: F.day(21)), contractID: F.contractA))
    }

    func cancelled(by actor: ActorRef) -> ContractEvent {
        .contractCancelled(.init(contractID: F.contractA, cancelledBy: actor))
    }

    @Test func eitherPartyOrAnAdminCancelsAnActiveContract() {
        for actor in [client, freelancer, F.admin] {
            Given(ContractDecider.self, [started]).when(cancel(actor)).then([cancelled(by: actor)])
        }
    }

    @Test func nobodyElseMayCancel() {
        Given(ContractDecider.self, [started]).when(cancel(.freelancer(F.bob))).thenFails(.notAllowed)
        Given(ContractDecider.self, [started]).when(cancel(.system)).thenFails(.notAllowed)
    }

    @Test func aPendingDeliveryOrAnEndedContractCannotBeCancelled() {
        Given(ContractDecider.self, [started, delivered]).when(cancel(client)).thenFails(.contractNotActive)
    }

    @Test func cancellingTwiceDecidesNothing() {
        Given(ContractDecider.self, [started, cancelled(by: client)]).when(cancel(freelancer)).thenNothing()
    }

    @Test func aContractThatWasNeverStartedIsNotFound() {
        Given(ContractDecider.self).when(cancel(client)).thenFails(.contractNotFound)
    }

    @Test func afterCancellationBothSidesMayReview() {
        let review = ContractCommand.submitReview(
            .init(context: F.context(client, at: F.day(30)), contractID: F.contractA, rating: 3, text: "Ok."))
        Given(ContractDecider.self, [started, cancelled(by: client)]).when(review).thenSucceeds()
    }
}
