import EventStore
import Foundation
import Marketplace
import PQ
import TestSupport
import Testing

@testable import GigLedger

/// A new data subject's key is stored by the first append sealed with it, in that append's own
/// transaction (issue 15, performance): concurrent first writes agree on one key, a refused key
/// makes the handler decide again with the stored one, a forgotten subject gets the placeholder.
@Suite("A new subject's data key commits with the append that first uses it")
struct SubjectKeyTests {
    static func registration(_ freelancer: UUID, name: String, commandId: UUID) -> [String: JSONValue] {
        [
            "command": "RegisterFreelancer", "commandId": .string(commandId.uuidString),
            "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"),
            "freelancerId": .string(freelancer.uuidString), "name": .string(name),
            "skills": .array([.object(["skill": "nlp", "level": .number(3)])]), "hourlyRate": money(9_000),
            "hoursPerWeek": 30,
        ]
    }

    static func keyCount(_ pool: ConnectionPool, _ subject: DataSubject) async throws -> Int64 {
        try await pool.query("SELECT count(*) FROM privacy.subject_keys WHERE subject = \(subject.description)")
            .scalar(Int64.self)
    }

    /// What `service` shows of the freelancer's stream (its fold opens the name with the key it holds).
    static func shown(_ service: MarketplaceService, _ freelancer: UUID) async throws -> String {
        String(
            decoding: try await service.fold("freelancer-\(freelancer.uuidString.lowercased())").stateJSON,
            as: UTF8.self)
    }

    /// A key made by `vault` for `subject` and not stored: as when its append is still on the way.
    /// Returns the key wrapped by the master key.
    @discardableResult
    static func makePendingKey(_ vault: PersonalDataVault, for subject: DataSubject, type: String) async throws
        -> Data
    {
        let sealed = try await vault.seal(
            [EncodedEvent(type: type, schemaVersion: 1, data: Data(#"{"name":"pending"}"#.utf8))], owners: [subject])
        return try #require(sealed.newKeys[subject.description])
    }

    @Test func concurrentFirstWritesForOneSubjectBothSucceedWithTheOneStoredKey() async throws {
        let pool = try await TestDatabase.pool(for: "privacyfirstkey", maxConnections: 10)
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        for round in 0..<20 {
            // Two processes (each its own vault, nothing cached) send one registration at once.
            let first = MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests)
            let second = MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests)
            let freelancer = UUID()
            let name = "Round \(round) \(UUID().uuidString.prefix(8))"
            let command = try CommandInput(
                fields: Self.registration(freelancer, name: name, commandId: UUID()), now: start
            ).command()
            async let a = first.execute(command)
            async let b = second.execute(command)
            let outcomes = try await [a, b]
            #expect(outcomes.filter { !$0.duplicate }.count == 1, "round \(round): the command is appended once")
            #expect(try await Self.keyCount(pool, .freelancer(FreelancerID(freelancer))) == 1)
            // Every event opens with the one stored key: in both writers and in a new reader.
            let reader = MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests)
            for service in [first, second, reader] {
                let shown = try await Self.shown(service, freelancer)
                #expect(shown.contains(name), "round \(round): a writer holds a key that is not the stored one")
            }
        }
    }

    @Test func aKeyRefusedBecauseAnotherWriterStoredOneFirstIsDroppedAndTheCommandSucceeds() async throws {
        let pool = try await TestDatabase.pool(for: "privacyfirstkey", maxConnections: 10)
        let store = EventStore(pool: pool)
        let late = PersonalDataVault(pool: pool, masterKey: .forTests)
        let lateService = MarketplaceService(store: store, vault: late)
        let freelancer = UUID()
        let subject = DataSubject.freelancer(FreelancerID(freelancer))
        try await Self.makePendingKey(late, for: subject, type: FreelancerEvent.FreelancerRegistered.eventType)
        #expect(try await Self.keyCount(pool, subject) == 0, "a key is not stored before its append")

        // Another writer's key for the subject commits first.
        let winner = try await Self.makePendingKey(
            PersonalDataVault(pool: pool, masterKey: .forTests), for: subject,
            type: FreelancerEvent.FreelancerRegistered.eventType)
        try await pool.query(
            "SELECT privacy.store_subject_key(\(subject.description), \(winner), \(MasterKey.forTests.id))")

        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let command = try CommandInput(
            fields: Self.registration(freelancer, name: "Winnie Key", commandId: UUID()), now: start
        ).command()
        let outcome = try await lateService.execute(command)
        #expect(!outcome.duplicate)
        #expect(outcome.attempts >= 2, "its first append stored its own key first and was refused (GL412)")
        let stored = try await pool.query(
            "SELECT wrapped_key FROM privacy.subject_keys WHERE subject = \(subject.description)"
        ).rows.map { try $0.decode(Data.self, at: 0) }
        #expect(stored == [winner], "the winner's key stays the subject's only key")
        // The event was sealed with the stored key: a new reader opens it, and so does the writer.
        let reader = MarketplaceService(store: store, masterKey: .forTests)
        #expect(try await Self.shown(reader, freelancer).contains("Winnie Key"))
        #expect(try await Self.shown(lateService, freelancer).contains("Winnie Key"))
    }

    /// A registration creates its subject's stream, so the vault presumes the subject new and makes
    /// a key without reading `privacy.subject_keys` first. A key stored anyway (here by another
    /// process, as a key made for another stream's event would be) refuses that append; the retry
    /// reads, seals with the stored key, and the subject is read first from then on.
    @Test func aRegistrationWhoseSubjectHasAStoredKeyRetriesWithThatKey() async throws {
        let pool = try await TestDatabase.pool(for: "privacyfirstkey", maxConnections: 10)
        let store = EventStore(pool: pool)
        let freelancer = UUID()
        let subject = DataSubject.freelancer(FreelancerID(freelancer))
        let stored = try await Self.makePendingKey(
            PersonalDataVault(pool: pool, masterKey: .forTests), for: subject,
            type: FreelancerEvent.FreelancerRegistered.eventType)
        try await pool.query(
            "SELECT privacy.store_subject_key(\(subject.description), \(stored), \(MasterKey.forTests.id))")

        let fresh = MarketplaceService(store: store, masterKey: .forTests)
        let command = try CommandInput(
            fields: Self.registration(freelancer, name: "Stored Keyholder", commandId: UUID()),
            now: Date(timeIntervalSince1970: 1_795_000_000)
        ).command()
        let outcome = try await fresh.execute(command)
        #expect(!outcome.duplicate)
        #expect(outcome.attempts == 2, "the presumed-new key was refused once, then the stored key was read")
        let keys = try await pool.query(
            "SELECT wrapped_key FROM privacy.subject_keys WHERE subject = \(subject.description)"
        ).rows.map { try $0.decode(Data.self, at: 0) }
        #expect(keys == [stored], "the stored key stays the subject's only key")
        let reader = MarketplaceService(store: store, masterKey: .forTests)
        #expect(try await Self.shown(reader, freelancer).contains("Stored Keyholder"))
    }

    @Test func aSubjectForgottenWhileItsNewKeyWasPendingGetsThePlaceholder() async throws {
        let pool = try await TestDatabase.pool(for: "privacyfirstkey", maxConnections: 10)
        let store = EventStore(pool: pool)
        let late = PersonalDataVault(pool: pool, masterKey: .forTests)
        let lateService = MarketplaceService(store: store, vault: late)
        let other = Market(service: MarketplaceService(store: store, masterKey: .forTests))
        let client = UUID()
        let subject = DataSubject.client(ClientID(client))
        try await Self.makePendingKey(late, for: subject, type: ClientEvent.ClientRegistered.eventType)
        try await other.run([
            "command": "RegisterClient", "actor": .string("client:\(client.uuidString.lowercased())"),
            "clientId": .string(client.uuidString), "name": "Forgotten Client", "country": "DE",
            "paymentVerified": .bool(true),
        ])
        _ = try await other.service.vault.forget(subject, reason: "gdpr-art17", actor: .admin("dpo"))

        // The late writer still holds its pending key: the append that would store it is refused
        // (GL410), and the command goes through with the placeholder.
        let gig = UUID()
        let title = "Forgotten title \(UUID().uuidString.prefix(8))"
        let command = try CommandInput(
            fields: [
                "command": "PostGig", "actor": .string("client:\(client.uuidString.lowercased())"),
                "gigId": .string(gig.uuidString), "clientId": .string(client.uuidString), "title": .string(title),
                "description": "Nothing personal", "skills": ["nlp"], "budgetMin": money(100_000),
                "budgetMax": money(300_000),
                "biddingClosesAt": .string(iso(other.start.addingTimeInterval(7 * 86_400))),
            ], now: other.start
        ).command()
        let outcome = try await lateService.execute(command)
        #expect(!outcome.duplicate && outcome.attempts >= 2)
        #expect(try await Self.keyCount(pool, subject) == 0, "no key is made for a forgotten subject")
        let stored = try await store.readStream(
            try StreamName(validating: "gig-\(gig.uuidString.lowercased())"), from: 1, limit: 1)
        let data = String(decoding: try #require(stored.first).data.data, as: UTF8.self)
        #expect(data.contains(PersonalData.placeholder) && !data.contains(title))
    }
}
