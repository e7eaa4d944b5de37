import Foundation
import Marketplace
import Testing

@Suite struct ExtremeInputTests {
    typealias F = Fixtures

    /// Absurd values are typed rejections, never traps.
    @Test func absurdValuesAreRejectedNotTrapped() {
        let posted = F.gigPosted()
        for time in [
            Date(timeIntervalSince1970: .nan), Date(timeIntervalSince1970: .infinity), .distantPast,
            Date(timeIntervalSince1970: 1e15),
        ] {
            Given(GigDecider.self, [posted]).when(
                .expireGig(.init(context: F.context(.system, at: time), gigID: F.gigA))
            ).thenFails(.invalidInput)
            Given(ContractDecider.self, [F.contractStarted()]).when(
                .submitDelivery(
                    .init(
                        context: F.context(.freelancer(F.alice), at: time), contractID: F.contractA,
                        deliveryID: F.delivery(1), note: "", artifacts: []))
            ).thenFails(.invalidInput)
        }
        for amount in [Int64.max, Int64.min, -1] {
            Given(GigDecider.self, [posted]).when(
                .placeBid(
                    .init(
                        context: F.context(.freelancer(F.alice), at: F.day(1)), gigID: F.gigA, bidID: F.bid(1),
                        amount: F.eur(amount), estimatedDays: 1, bidderRegistered: true))
            ).thenFails(.invalidAmount)
        }
        Given(GigDecider.self, [posted]).when(
            .placeBid(
                .init(
                    context: F.context(.freelancer(F.alice), at: F.day(1)), gigID: F.gigA, bidID: F.bid(1),
                    amount: F.eur(1), estimatedDays: .max, bidderRegistered: true))
        ).thenFails(.invalidInput)
        Given(GigDecider.self).when(
            .postGig(
                .init(
                    context: F.context(.client(F.clientA)), gigID: F.gigA, clientID: F.clientA, title: "T",
                    description: "",
                    skills: ["nlp"], budgetMin: F.eur(.min), budgetMax: F.eur(.max), biddingClosesAt: F.deadline,
                    clientRegistered: true))
        ).thenFails(.invalidBudget)
        Given(GigDecider.self).when(
            .postGig(
                .init(
                    context: F.context(.client(F.clientA)), gigID: F.gigA, clientID: F.clientA, title: "T",
                    description: "",
                    skills: ["nlp"], budgetMin: F.eur(1), budgetMax: F.eur(2),
                    biddingClosesAt: Date(timeIntervalSince1970: .nan),
                    clientRegistered: true))
        ).thenFails(.invalidInput)
        let huge = String(repeating: "\u{301}", count: 10_000)  // one character of many combining marks
        Given(GigDecider.self).when(
            .postGig(
                .init(
                    context: F.context(.client(F.clientA)), gigID: F.gigA, clientID: F.clientA, title: "e" + huge,
                    description: "", skills: ["nlp"], budgetMin: F.eur(1), budgetMax: F.eur(2),
                    biddingClosesAt: F.deadline,
                    clientRegistered: true))
        ).thenFails(.invalidInput)
    }
}
