import Foundation
import Marketplace

/// One event of every type, with every field set, for the storage-format tests.
enum EventSamples {
    typealias F = Fixtures

    static let freelancer: [FreelancerEvent] = [
        .freelancerRegistered(
            .init(
                freelancerID: F.alice, name: "Alice Ng",
                skills: [
                    SkillProficiency(skill: F.skills("explainable-ai")[0], level: .expert),
                    SkillProficiency(skill: F.skills("python")[0], level: .intermediate),
                ],
                hourlyRate: F.eur(9_000), hoursPerWeek: 30)),
        .skillsUpdated(
            .init(freelancerID: F.alice, skills: [SkillProficiency(skill: F.skills("nlp")[0], level: .beginner)])),
        .rateChanged(.init(freelancerID: F.alice, hourlyRate: F.eur(9_500))),
        .availabilityChanged(.init(freelancerID: F.alice, hoursPerWeek: 20)),
        .preferencesSet(
            .init(
                freelancerID: F.alice,
                preferences: FreelancerPreferences(
                    minimumBudget: F.eur(80_000), currencies: [.eur, .usd], wantedSkills: F.skills("explainable-ai"),
                    maxConcurrentContracts: 2))),
    ]

    static let client: [ClientEvent] = [
        .clientRegistered(.init(clientID: F.clientA, name: "Acme GmbH", country: "DE", paymentVerified: true))
    ]

    static let gig: [GigEvent] = [
        F.gigPosted(),
        F.bidPlaced(F.bid(1), by: F.alice),
        .bidRevised(
            .init(gigID: F.gigA, bidID: F.bid(1), freelancerID: F.alice, amount: F.eur(280_000), estimatedDays: 18)),
        .bidWithdrawn(.init(gigID: F.gigA, bidID: F.bid(2), freelancerID: F.bob)),
        .bidDeclined(.init(gigID: F.gigA, bidID: F.bid(3), freelancerID: F.freelancer(3), reason: .priceTooHigh)),
        F.bidAccepted(F.bid(1), by: F.alice, amount: 280_000),
        .gigClosed(.init(gigID: F.gigA, reason: .filled)),
    ]

    static let contract: [ContractEvent] = [
        F.contractStarted(amount: 280_000),
        .deliverySubmitted(
            .init(
                contractID: F.contractA, deliveryID: F.delivery(1), note: "Model attached.\nSee the report.",
                artifacts: ["https://files.example/model.bin", "s3://deliveries/report.pdf"],
                submittedAt: Date(timeIntervalSince1970: 1_768_955_445.123))),
        .changesRequested(.init(contractID: F.contractA, deliveryID: F.delivery(1), reason: "Add the evaluation set.")),
        .deliveryApproved(.init(contractID: F.contractA, deliveryID: F.delivery(2), approvedBy: .client(F.clientA))),
        .paymentReleased(
            .init(
                contractID: F.contractA, invoiceNumber: "INV-2026-C0000000000040008000000000000001",
                gross: F.eur(280_000),
                platformFee: F.eur(28_000), net: F.eur(252_000))),
        .disputeOpened(
            .init(
                contractID: F.contractA, disputeID: F.dispute(1), openedBy: .freelancer(F.alice), reason: "Scope grew.")
        ),
        .disputeResolved(
            .init(
                contractID: F.contractA, disputeID: F.dispute(1), resolvedBy: .admin("ops"), resolution: .resumeWork,
                note: "Scope stays as agreed.")),
        .contractCompleted(.init(contractID: F.contractA)),
        .contractCancelled(.init(contractID: F.contractA, cancelledBy: .admin("ops"))),
        .reviewSubmitted(.init(contractID: F.contractA, authorSide: .client, rating: 5, text: "Excellent.")),
    ]

    /// Every sample, encoded.
    static let privacy: [PrivacyEvent] = [
        .personalDataErased(
            .init(
                subject: .freelancer(F.alice), reason: "gdpr-art17",
                erasedAt: Date(timeIntervalSince1970: 1_772_357_400)))
    ]

    static func encodedAll() throws -> [EncodedEvent] {
        try freelancer.map { try $0.encoded() } + client.map { try $0.encoded() } + gig.map { try $0.encoded() }
            + contract.map { try $0.encoded() } + privacy.map { try $0.encoded() }
    }
}
