import Foundation
import Marketplace
import Testing

@Suite struct ClientDeciderTests {
    typealias F = Fixtures

    func register(_ actor: ActorRef = .client(Fixtures.clientA), name: String = "Acme GmbH", country: String = "DE")
        -> ClientCommand
    {
        .registerClient(
            .init(context: F.context(actor), clientID: F.clientA, name: name, country: country, paymentVerified: true))
    }

    let registered = ClientEvent.clientRegistered(
        .init(clientID: Fixtures.clientA, name: "Acme GmbH", country: "DE", paymentVerified: true))

    @Test func registers() {
        Given(ClientDecider.self).when(register()).then([registered])
        Given(ClientDecider.self).when(register(F.admin)).then([registered])
    }

    @Test func onlyTheClientOrAnAdminMayRegister() {
        Given(ClientDecider.self).when(register(.client(F.clientB))).thenFails(.notAllowed)
        Given(ClientDecider.self).when(register(.freelancer(F.alice))).thenFails(.notAllowed)
    }

    @Test func repeatsAreIdempotentOrRejected() {
        Given(ClientDecider.self, [registered]).when(register()).thenNothing()
        Given(ClientDecider.self, [registered]).when(register(name: "Acme AG")).thenFails(.alreadyRegistered)
        Given(ClientDecider.self, [registered]).when(register(country: "FR")).thenFails(.alreadyRegistered)
    }

    @Test func validates() {
        Given(ClientDecider.self).when(register(name: "")).thenFails(.invalidInput)
        Given(ClientDecider.self).when(register(country: "de")).thenFails(.invalidInput)
        Given(ClientDecider.self).when(register(country: "DEU")).thenFails(.invalidInput)
        Given(ClientDecider.self).when(register(.admin(""))).thenFails(.invalidInput)
    }

    @Test func evolves() {
        #expect(ClientDecider.fold([registered]).isRegistered)
        #expect(ClientDecider.fold([registered]).profile?.country == "DE")
    }
}
