import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections
import TestSupport
import Testing

/// `GigPosted` as version 1 stored it: no `experience`, no `engagement` (version 2 added both).
enum GigPostedV1 {
    static func payload(gig: UUID, client: UUID, skills: [String]) -> JSONValue {
        [
            "gigId": .string(gig.uuidString.lowercased()), "clientId": .string(client.uuidString.lowercased()),
            "title": "Old gig", "description": "Posted before gigs said their experience and engagement",
            "skills": .array(skills.map { .string($0) }),
            "budgetMin": ["currency": "EUR", "minorUnits": 50_000],
            "budgetMax": ["currency": "EUR", "minorUnits": 90_000],
            "biddingClosesAt": "2027-06-01T00:00:00.000Z",
        ]
    }
}

@Suite("Schema evolution: GigPosted v1 events read as v2 by the domain, the projectors and time travel")
struct SchemaEvolutionTests {
    @Test func aVersionOneEventIsReadByTheDomainTheProjectorsAndTimeTravel() async throws {
        let pool = try await TestDatabase.fresh("schemav2")
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        func run(_ fields: [String: JSONValue]) async throws {
            try await service.execute(try CommandInput(fields: fields, now: now).command())
        }
        let client = UUID()
        let freelancer = UUID().uuidString.lowercased()
        try await run([
            "command": "RegisterClient", "actor": .string("client:\(client.uuidString.lowercased())"),
            "clientId": .string(client.uuidString.lowercased()), "name": "C", "country": "DE",
        ])
        try await run([
            "command": "RegisterFreelancer", "actor": .string("freelancer:\(freelancer)"),
            "freelancerId": .string(freelancer), "name": "F", "skills": [["skill": "data-labeling", "level": 2]],
            "hourlyRate": ["currency": "EUR", "amount": "30.00"], "hoursPerWeek": 20,
        ])
        // The old gig: stored as version 1, as an older GigLedger wrote it.
        let oldGig = UUID()
        let oldStream = GigID(oldGig).streamName
        try await store.append(
            [
                NewEvent(
                    type: GigEvent.GigPosted.eventType, schemaVersion: 1,
                    payload: GigPostedV1.payload(gig: oldGig, client: client, skills: ["data-labeling"]),
                    occurredAt: now)
            ], to: try StreamName(validating: oldStream), expecting: .noStream,
            metadata: EventMetadata(actor: "client:\(client.uuidString.lowercased())", commandId: UUID()))
        // The domain folds it (upcast) and decides on it: a bid in the gig's currency is placed.
        let bid = UUID().uuidString.lowercased()
        try await run([
            "command": "PlaceBid", "actor": .string("freelancer:\(freelancer)"),
            "gigId": .string(oldGig.uuidString.lowercased()), "bidId": .string(bid),
            "amount": ["currency": "EUR", "amount": "700.00"], "estimatedDays": 5,
        ])
        // A gig posted now is stamped with the current version, 2.
        let newGig = UUID().uuidString.lowercased()
        try await run([
            "command": "PostGig", "actor": .string("client:\(client.uuidString.lowercased())"),
            "clientId": .string(client.uuidString.lowercased()), "gigId": .string(newGig), "title": "New",
            "skills": ["data-labeling", "swift"], "budgetMin": ["currency": "EUR", "amount": "100.00"],
            "budgetMax": ["currency": "EUR", "amount": "200.00"], "biddingClosesAt": "2027-06-01T00:00:00Z",
            "experience": "expert", "engagement": "hourly", "hours": 12,
        ])
        let stored = try await store.readStream(try StreamName(validating: "gig-\(newGig)"))
        #expect(stored.map(\.schemaVersion) == [2])
        let newData = try #require(stored.first).data.decode(JSONValue.self)
        #expect(newData["experience"] == "expert")
        #expect(newData["engagement"] == ["hours": 12, "kind": "hourly"])
        #expect(try await store.readStream(try StreamName(validating: oldStream)).map(\.schemaVersion) == [1, 1])

        // Time travel: the old gig folded to version 1 and to the latest.
        let atPosting = try await service.fold(oldStream, to: .version(1))
        let posted = try JSONDecoder().decode(JSONValue.self, from: atPosting.stateJSON)
        #expect("\(posted)".contains("data-labeling"))
        // The upcaster's defaults are in the folded state: only it could have said "fixedPrice".
        #expect("\(posted)".contains("fixedPrice"))
        #expect(!"\(posted)".contains(bid))
        let latest = try JSONDecoder().decode(JSONValue.self, from: try await service.fold(oldStream).stateJSON)
        #expect("\(latest)".contains(bid))

        // The projectors, through the same registry.
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all)
        try await engine.prepare()
        let expected = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        _ = try await eventually { () async throws -> Bool? in
            _ = try await engine.catchUpAll()
            let status = try await engine.status()
            return status.allSatisfy { $0.eventsApplied >= Int64(expected) } ? true : nil
        }
        let competition = try #require(
            try await pool.query(
                """
                SELECT skills, bids_total, budget_max_minor FROM read_models.competition_gigs_v1 WHERE gig_id = \(oldGig)
                """
            ).first)
        #expect(try competition.decode([String].self, "skills") == ["data-labeling"])
        #expect(try competition.decode(Int.self, "bids_total") == 1)
        #expect(try competition.decode(Int64.self, "budget_max_minor") == 90_000)
        let budgets = try await pool.query(
            """
            SELECT skill FROM read_models.price_observations_v1 WHERE series = 'budget' AND gig_id = \(oldGig)
            """
        ).rows.map { try $0.decode(String.self, at: 0) }
        #expect(budgets == ["data-labeling"])
        let matched = try await pool.query(
            "SELECT skills FROM read_models.match_gigs_v4 WHERE gig_id = \(oldGig)"
        ).first
        #expect(try matched?.decode([String].self, "skills") == ["data-labeling"])
        let newSkills = try await pool.query(
            "SELECT skills FROM read_models.competition_gigs_v1 WHERE gig_id = \(UUID(uuidString: newGig)!)"
        ).first
        #expect(try newSkills?.decode([String].self, "skills") == ["data-labeling", "swift"])

        // A version newer than the registry's is refused, naming type and version.
        let future = UUID()
        try await store.append(
            [
                NewEvent(
                    type: GigEvent.GigPosted.eventType, schemaVersion: 3,
                    payload: GigPostedV1.payload(gig: future, client: client, skills: ["swift"]), occurredAt: now)
            ], to: try StreamName(validating: GigID(future).streamName), expecting: .noStream,
            metadata: EventMetadata(actor: "client:\(client.uuidString.lowercased())", commandId: UUID()))
        let fresh = MarketplaceService(store: store, masterKey: .forTests, cachedStreams: 0)
        let error = await #expect(throws: CommandError.self) { _ = try await fresh.fold(GigID(future).streamName) }
        #expect(error?.message.contains("GigPosted schema version 3 is newer than version 2") == true)
    }

    @Test func shippedProjectorsNameOnlyTypesTheDomainHas() throws {
        let known = EventRegistry.marketplace.types
        for projector in ShippedProjectors.all {
            guard let projector = projector as? any MarketplaceProjector else {
                Issue.record("\(projector.name) is not a MarketplaceProjector: it must name the event types it reads")
                continue
            }
            #expect(!projector.eventTypes.isEmpty, "\(projector.name)")
            #expect(
                projector.eventTypes.isSubset(of: known),
                "\(projector.name) names \(projector.eventTypes.subtracting(known).sorted()), which the domain does not have"
            )
        }
    }

    /// Projectors name types by the domain's constants: no event type appears in their sources
    /// as a string literal.
    @Test func projectorSourcesHoldNoEventTypeLiterals() throws {
        let sources = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Sources/Projections")
        let files = try FileManager.default.contentsOfDirectory(at: sources, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "swift" }
        #expect(files.count > 4)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for type in EventRegistry.marketplace.types {
                #expect(!text.contains("\"\(type)\""), "\(file.lastPathComponent) spells \(type) as a literal")
            }
        }
    }
}
