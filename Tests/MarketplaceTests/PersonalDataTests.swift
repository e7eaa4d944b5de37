import Foundation
import Marketplace
import Testing

/// The pure half of crypto-shredding: which fields are personal, the envelope, and the registry
/// opening envelopes through a reader (the keys and AES-GCM live in GigLedger).
@Suite("Personal fields: the catalogue, the envelope, reading through a reader")
struct PersonalDataTests {
    /// Opens an envelope by reversing its bytes; `nil` (erased) for the subject it does not know.
    struct ReversingReader: PersonalDataReader {
        let known: Set<String>
        func open(_ envelope: PersonalDataEnvelope, context: Data) throws -> String? {
            guard envelope.keyIDs.allSatisfy(known.contains) else { return nil }
            return String(decoding: envelope.sealed.reversed(), as: UTF8.self)
        }
    }

    static let alice = "freelancer:f1000000-0000-4000-8000-000000000001"
    static let acme = "client:c1000000-0000-4000-8000-000000000001"

    static func sealed(_ text: String, _ keys: [String]) -> String {
        PersonalDataEnvelope(keyIDs: keys, sealed: Data(text.utf8.reversed())).text
    }

    @Test func theEnvelopeRoundTripsAndPlaintextIsNotOne() throws {
        let envelope = PersonalDataEnvelope(keyIDs: [Self.acme, Self.alice], sealed: Data([1, 2, 3, 250]))
        #expect(envelope.text.hasPrefix("$enc:v1;client:"))
        #expect(PersonalDataEnvelope(parsing: envelope.text) == envelope)
        #expect(PersonalDataEnvelope(parsing: "Alice Ng") == nil)
        #expect(PersonalDataEnvelope(parsing: "$enc:v1;nobody:1;AAAA") == nil, "key ids are data subjects")
        #expect(PersonalDataEnvelope(parsing: "$enc:v1;\(Self.alice);not base64!") == nil)
    }

    @Test func everyListedFieldExistsAndEveryOtherStringIsNotPersonal() throws {
        let registered = EventRegistry.marketplace.types
        for (type, fields) in PersonalData.fields {
            #expect(registered.contains(type), "\(type) is not an event type")
            let sample = try #require(try EventSamples.encodedAll().first { $0.type == type })
            let object = try JSONSerialization.jsonObject(with: sample.data) as? [String: Any]
            for field in fields { #expect(object?[field.key] != nil, "\(type) has no field \(field.key)") }
        }
        #expect(PersonalData.fields[PrivacyEvent.PersonalDataErased.eventType] == nil)
    }

    @Test func aRevealingRegistryOpensWhatItHasKeysForAndShowsThePlaceholderElsewhere() throws {
        let registered = try Fixtures.gigPosted().encoded()
        var object = try #require(try JSONSerialization.jsonObject(with: registered.data) as? [String: Any])
        object["title"] = Self.sealed("Orchids", [Self.acme])
        object["description"] = Self.sealed("From Marta", [Self.acme, Self.alice])
        let stored = EncodedEvent(
            type: registered.type, schemaVersion: registered.schemaVersion,
            data: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))

        let both = EventRegistry.marketplace.revealing(with: ReversingReader(known: [Self.acme, Self.alice]))
        guard case .gig(.gigPosted(let open)) = try both.decode(stored) else {
            Issue.record("not a GigPosted")
            return
        }
        #expect(open.title == "Orchids" && open.description == "From Marta")

        let aliceForgotten = EventRegistry.marketplace.revealing(with: ReversingReader(known: [Self.acme]))
        guard case .gig(.gigPosted(let half)) = try aliceForgotten.decode(stored) else { return }
        #expect(half.title == "Orchids" && half.description == PersonalData.placeholder)

        // Without a reader (the handler's fold, the projectors) envelopes stay as they are.
        guard case .gig(.gigPosted(let sealed)) = try EventRegistry.marketplace.decode(stored) else { return }
        #expect(sealed.title.hasPrefix(PersonalData.envelopePrefix))
        // Everything that is not personal is untouched.
        #expect(sealed.sameFacts(as: open))
    }

    @Test func mappingFieldsKeepsLargeIntegersExact() throws {
        let data = Data(#"{"name":"Alice","hourlyRate":{"currency":"EUR","minorUnits":9007199254740993}}"#.utf8)
        let mapped = try #require(try PersonalData.mapFields(of: "FreelancerRegistered", in: data) { _, _ in "x" })
        let text = String(decoding: mapped, as: UTF8.self)
        #expect(text.contains("9007199254740993") && text.contains(#""name":"x""#))
    }

    @Test func anErasedNameLetsTheFactsDecideARepeatAndAnotherNameIsStillRejected() throws {
        func register(_ name: String) -> FreelancerCommand {
            .registerFreelancer(
                .init(
                    context: Fixtures.context(.freelancer(Fixtures.alice)), freelancerID: Fixtures.alice, name: name,
                    skills: [.init(slug: "nlp", level: 3)], hourlyRate: Fixtures.eur(9_000), hoursPerWeek: 30))
        }
        let first = FreelancerDecider.fold(try FreelancerDecider.decide(register("Alice Ng"), .unregistered))
        #expect(try FreelancerDecider.decide(register("Alice Ng"), first).isEmpty)
        #expect(throws: DomainError.self) { try FreelancerDecider.decide(register("Alice N."), first) }
        // After erasure the handler's fold reads the name as the placeholder: nobody can tell, the
        // facts decide, so the repeat of what was decided before erasure is still a repeat.
        let erased = FreelancerDecider.fold(
            try FreelancerDecider.decide(register(PersonalData.placeholder), .unregistered))
        #expect(try FreelancerDecider.decide(register("Alice Ng"), erased).isEmpty)
        #expect(PersonalData.matches(["a", PersonalData.placeholder], ["a", "b"]))
        #expect(!PersonalData.matches(["a"], ["a", "b"]))
    }
}
