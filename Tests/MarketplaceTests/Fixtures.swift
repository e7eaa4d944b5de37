import Foundation
import Marketplace

/// Deterministic ids, times and contexts for the tests.
enum Fixtures {
    /// A UUID whose last two bytes are `n` and whose first byte is `kind` (no optionals to unwrap).
    static func uuid(_ kind: UInt8, _ n: Int) -> UUID {
        UUID(uuid: (kind, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, UInt8((n >> 8) & 0xff), UInt8(n & 0xff)))
    }

    static func client(_ n: Int) -> ClientID { ClientID(uuid(0xC1, n)) }
    static func freelancer(_ n: Int) -> FreelancerID { FreelancerID(uuid(0xF1, n)) }
    static func gig(_ n: Int) -> GigID { GigID(uuid(0x61, n)) }
    static func bid(_ n: Int) -> BidID { BidID(uuid(0xB1, n)) }
    static func contract(_ n: Int) -> ContractID { ContractID(uuid(0xC0, n)) }
    static func delivery(_ n: Int) -> DeliveryID { DeliveryID(uuid(0xD1, n)) }
    static func dispute(_ n: Int) -> DisputeID { DisputeID(uuid(0xD5, n)) }
    static func command(_ n: Int) -> CommandID { CommandID(uuid(0xCC, n)) }

    /// 2026-01-01T00:00:00Z.
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)
    /// `t0` plus `days` days.
    static func day(_ days: Double) -> Date { t0.addingTimeInterval(days * 86_400) }

    static let clientA = client(1)
    static let clientB = client(2)
    static let alice = freelancer(1)
    static let bob = freelancer(2)
    /// A freelancer account of the same person as `clientA` (same UUID).
    static let clientAsFreelancer = FreelancerID(clientA.uuid)
    static let admin = ActorRef.admin("ops")

    static func context(_ actor: ActorRef, at time: Date = t0, id: Int = 1) -> CommandContext {
        CommandContext(commandID: command(id), actor: actor, occurredAt: time)
    }

    static func eur(_ minorUnits: Int64) -> Money { Money(minorUnits: minorUnits, currency: .eur) }
    static func usd(_ minorUnits: Int64) -> Money { Money(minorUnits: minorUnits, currency: .usd) }

    // MARK: - Canonical events

    static let gigA = gig(1)
    static let deadline = day(14)

    static func gigPosted(_ gigID: GigID = gigA, by clientID: ClientID = clientA) -> GigEvent {
        .gigPosted(
            .init(
                gigID: gigID, clientID: clientID, title: "Fine-tune a support LLM",
                description: "Fine-tune on 20k tickets.\nReport metrics.", skills: skills("llm-fine-tuning", "nlp"),
                budgetMin: eur(200_000), budgetMax: eur(500_000), biddingClosesAt: deadline, experience: .any,
                engagement: .fixedPrice))
    }

    static func bidPlaced(
        _ bidID: BidID, by freelancerID: FreelancerID, amount: Int64 = 300_000, days: Int = 20, on gigID: GigID = gigA
    ) -> GigEvent {
        .bidPlaced(
            .init(gigID: gigID, bidID: bidID, freelancerID: freelancerID, amount: eur(amount), estimatedDays: days))
    }

    static func bidAccepted(
        _ bidID: BidID, by freelancerID: FreelancerID, amount: Int64 = 300_000,
        contract contractID: ContractID = contractA
    ) -> GigEvent {
        .bidAccepted(
            .init(
                gigID: gigA, bidID: bidID, freelancerID: freelancerID, agreedAmount: eur(amount), contractID: contractID
            ))
    }

    static let contractA = contract(1)

    static func contractStarted(amount: Int64 = 300_000, terms: ContractTerms = .standard) -> ContractEvent {
        .contractStarted(
            .init(
                contractID: contractA, gigID: gigA, bidID: bid(1), clientID: clientA, freelancerID: alice,
                amount: eur(amount), estimatedDays: 20, terms: terms))
    }

    static func deliverySubmitted(_ deliveryID: DeliveryID = delivery(1), at time: Date = day(20)) -> ContractEvent {
        .deliverySubmitted(
            .init(
                contractID: contractA, deliveryID: deliveryID, note: "Model and report attached.",
                artifacts: ["s3://deliveries/model.safetensors"], submittedAt: time))
    }

    static func skills(_ slugs: String...) -> [Skill] {
        slugs.compactMap { try? Skill(slug: $0) }
    }
}
