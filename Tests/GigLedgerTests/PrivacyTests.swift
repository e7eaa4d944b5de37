import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections
import TestSupport
import Testing

@testable import GigLedger

/// Crypto-shredding end to end (issue 15): every personal field sealed on the way in and opened
/// by readers; after `forget`, no table, column or dump holds the subject's strings, the log
/// replays, the read models verify, time travel and export show the placeholder, money adds up.
@Suite("Personal data: sealed per subject, opened by readers, forgotten for good")
struct PrivacyTests {
    /// A market with one contract that went through every personal field, each a unique string.
    struct Scene {
        let market: Market
        let pool: ConnectionPool
        let client: UUID
        let freelancer: UUID
        let gig: UUID
        let contract: UUID
        /// Personal strings by field, each unique to this scene.
        let secrets: [String: String]
        var freelancerSubject: DataSubject { .freelancer(FreelancerID(freelancer)) }
    }

    /// With `partitionSize`, the log is partitioned in ranges of that many positions first.
    static func scene(_ label: String, partitionSize: Int64? = nil) async throws -> Scene {
        let pool = try await TestDatabase.fresh(label)
        if let partitionSize { _ = try await TestDatabase.usePartitions(of: partitionSize, pool) }
        let market = Market(service: MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests))
        let tag = UUID().uuidString.prefix(8).lowercased()
        let s: [String: String] = [
            "clientName": "Clara Quill \(tag)", "freelancerName": "Freddie Zephyr \(tag)",
            "title": "Classify the orchid photos \(tag)", "description": "Orchid dataset from Marta \(tag)",
            "note1": "First cut by Freddie \(tag)", "artifact": "s3://freddie-\(tag)/model.bin",
            "changes": "Freddie, please retrain \(tag)", "note2": "Second cut \(tag)",
            "dispute": "Freddie missed the deadline \(tag)", "resolution": "Paid in full, Clara agreed \(tag)",
            "reviewByClient": "Freddie was great \(tag)", "reviewByFreelancer": "Clara paid promptly \(tag)",
        ]
        let client = UUID()
        let freelancer = UUID()
        let gig = UUID()
        let bid = UUID()
        let contract = UUID()
        let c = JSONValue.string("client:\(client.uuidString.lowercased())")
        let f = JSONValue.string("freelancer:\(freelancer.uuidString.lowercased())")
        let t0 = market.start
        try await market.run([
            "command": "RegisterClient", "actor": c, "clientId": .string(client.uuidString),
            "name": .string(s["clientName"]!), "country": "DE", "paymentVerified": .bool(true),
        ])
        try await market.run([
            "command": "RegisterFreelancer", "actor": f, "freelancerId": .string(freelancer.uuidString),
            "name": .string(s["freelancerName"]!),
            "skills": .array([.object(["skill": "nlp", "level": .number(3)])]), "hourlyRate": money(9_000),
            "hoursPerWeek": 30,
        ])
        try await market.run([
            "command": "PostGig", "actor": c, "gigId": .string(gig.uuidString), "clientId": .string(client.uuidString),
            "title": .string(s["title"]!), "description": .string(s["description"]!), "skills": ["nlp"],
            "budgetMin": money(100_000), "budgetMax": money(300_000),
            "biddingClosesAt": .string(iso(t0.addingTimeInterval(7 * 86_400))),
        ])
        try await market.run([
            "command": "PlaceBid", "actor": f, "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString),
            "amount": money(200_000), "estimatedDays": 10,
        ])
        try await market.run([
            "command": "AcceptBid", "actor": c, "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString),
            "contractId": .string(contract.uuidString),
        ])
        let first = UUID()
        try await market.run([
            "command": "SubmitDelivery", "actor": f, "contractId": .string(contract.uuidString),
            "deliveryId": .string(first.uuidString), "note": .string(s["note1"]!),
            "artifacts": .array([.string(s["artifact"]!)]),
        ])
        try await market.run([
            "command": "RequestChanges", "actor": c, "contractId": .string(contract.uuidString),
            "deliveryId": .string(first.uuidString), "reason": .string(s["changes"]!),
        ])
        try await market.run([
            "command": "SubmitDelivery", "actor": f, "contractId": .string(contract.uuidString),
            "deliveryId": .string(UUID().uuidString), "note": .string(s["note2"]!),
        ])
        let dispute = UUID()
        try await market.run([
            "command": "OpenDispute", "actor": c, "contractId": .string(contract.uuidString),
            "disputeId": .string(dispute.uuidString), "reason": .string(s["dispute"]!),
        ])
        try await market.run([
            "command": "ResolveDispute", "actor": "admin:ops", "contractId": .string(contract.uuidString),
            "disputeId": .string(dispute.uuidString), "resolution": "payFreelancer", "note": .string(s["resolution"]!),
        ])
        try await market.run([
            "command": "SubmitReview", "actor": c, "contractId": .string(contract.uuidString), "rating": 5,
            "text": .string(s["reviewByClient"]!),
        ])
        try await market.run([
            "command": "SubmitReview", "actor": f, "contractId": .string(contract.uuidString), "rating": 4,
            "text": .string(s["reviewByFreelancer"]!),
        ])
        return Scene(
            market: market, pool: pool, client: client, freelancer: freelancer, gig: gig, contract: contract,
            secrets: s)
    }

    /// Every (schema.table.column, needle) where a text, jsonb or other textual column of any table
    /// or view in the database (ledger, commands and their results, keys, read models, build
    /// schemas) contains `needle`.
    static func scan(_ pool: ConnectionPool, for needles: [String]) async throws -> [String] {
        try await pool.query(
            """
            SELECT c.table_schema || '.' || c.table_name || '.' || c.column_name || ': ' || n.needle
            FROM information_schema.columns c CROSS JOIN unnest(\(needles)::text[]) AS n(needle)
            WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
              AND c.data_type IN ('text', 'jsonb', 'json', 'character varying', 'character', 'ARRAY', 'bytea', 'USER-DEFINED')
              AND (xpath('/row/n/text()', query_to_xml(format(
                    'SELECT count(*) AS n FROM %I.%I WHERE strpos(%I::text, %L) > 0',
                    c.table_schema, c.table_name, c.column_name, n.needle), false, true, '')))[1]::text::int > 0
            ORDER BY 1
            """
        ).rows.map { try $0.decode(String.self, at: 0) }
    }

    /// JSON as a person reads it (slashes unescaped, so artifact URLs compare as given).
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    /// The plain-text `pg_dump` of the database behind `pool` (read and waited for on a thread of
    /// its own: blocking the cooperative pool for the dump would stall the run's other suites).
    static func dump(_ pool: ConnectionPool) async throws -> String {
        let candidates =
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/pg_dump" }
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted().reversed()
            .map { "/usr/lib/postgresql/\($0)/bin/pg_dump" }
        let tool = try #require(
            candidates.first { FileManager.default.isExecutableFile(atPath: $0) }, "pg_dump is not installed")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--no-owner", "--dbname=\(pool.config.target)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let (data, status) = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (data, process.terminationStatus))
            }
        }
        #expect(status == 0, "pg_dump failed")
        return String(decoding: data, as: UTF8.self)
    }

    @Test func everyPersonalFieldIsSealedInStorageAndOpensForReaders() async throws {
        let scene = try await Self.scene("privacyroundtrip")
        let secrets = Array(scene.secrets.values)
        // Nothing personal is stored readable: not in the log, nor the command results, nor anywhere.
        #expect(try await Self.scan(scene.pool, for: secrets) == [])
        // Time travel opens every field.
        let service = scene.market.service
        var shown = ""
        for stream in [
            "client-\(scene.client.uuidString.lowercased())", "freelancer-\(scene.freelancer.uuidString.lowercased())",
            "gig-\(scene.gig.uuidString.lowercased())", "contract-\(scene.contract.uuidString.lowercased())",
        ] {
            shown += String(decoding: try await service.fold(stream).stateJSON, as: UTF8.self)
        }
        // (A dispute's resolution note is not part of the contract's state; the export shows it.)
        for (field, secret) in scene.secrets where field != "resolution" {
            #expect(shown.contains(secret), "time travel does not show \(field)")
        }
        // The export of each party holds its data, decrypted.
        let export = try await service.vault.export(scene.freelancerSubject)
        let text = String(decoding: try Self.encoder.encode(export), as: UTF8.self)
        for field in [
            "freelancerName", "note1", "artifact", "changes", "note2", "dispute", "resolution", "reviewByClient",
            "reviewByFreelancer",
        ] {
            #expect(text.contains(scene.secrets[field]!), "the export lacks \(field)")
        }
        #expect(!text.contains(scene.secrets["clientName"]!), "the freelancer's export holds the client's name")
    }

    @Test func forgettingAFreelancerLeavesNoTraceYetTheLogReplaysAndMoneyAddsUp() async throws {
        let scene = try await Self.scene("privacyforget")
        let store = EventStore(pool: scene.pool)
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "privacy-test")
        try await engine.prepare()
        try await engine.catchUpAll()
        let vault = scene.market.service.vault
        // A repeat is recognised on the sealed log: the handler's fold opens the name to compare.
        func register(_ name: String) -> [String: JSONValue] {
            [
                "command": "RegisterFreelancer",
                "actor": .string("freelancer:\(scene.freelancer.uuidString.lowercased())"),
                "freelancerId": .string(scene.freelancer.uuidString), "name": .string(name),
                "skills": .array([.object(["skill": "nlp", "level": .number(3)])]), "hourlyRate": money(9_000),
                "hoursPerWeek": 30,
            ]
        }
        #expect(try await scene.market.run(register(scene.secrets["freelancerName"]!)).changedNothing)
        do {
            try await scene.market.run(register("Someone Else"))
            Issue.record("a registration with another name was taken as a repeat")
        } catch let error as CommandError {
            #expect(error.domain?.code == .alreadyRegistered)
        }

        let outcome = try await vault.forget(scene.freelancerSubject, reason: "gdpr-art17", actor: .admin("dpo"))
        #expect(outcome.erased)
        let again = try await vault.forget(scene.freelancerSubject, reason: "gdpr-art17", actor: .admin("dpo"))
        #expect(!again.erased && again.position == outcome.position, "forgetting twice is a no-op")
        let erasedEvents = try await scene.pool.query(
            "SELECT count(*) FROM ledger.events WHERE event_type = 'PersonalDataErased'"
        ).scalar(Int64.self)
        #expect(erasedEvents == 1)
        #expect(
            try await scene.pool.query(
                "SELECT count(*) FROM privacy.subject_keys WHERE subject = \(scene.freelancerSubject.description)"
            ).scalar(Int64.self) == 0)
        try await engine.catchUpAll()

        // The freelancer's strings, and the contract's texts (sealed for both parties): nowhere.
        let theirs =
            ["freelancerName", "note1", "artifact", "changes", "note2", "dispute", "resolution"]
            .map { scene.secrets[$0]! } + [scene.secrets["reviewByClient"]!, scene.secrets["reviewByFreelancer"]!]
        #expect(try await Self.scan(scene.pool, for: theirs) == [])
        let dump = try await Self.dump(scene.pool)
        #expect(dump.contains("PersonalDataErased"), "the dump holds the log")
        for secret in theirs { #expect(!dump.contains(secret), "pg_dump holds a forgotten string") }

        // A reader that never saw the key (a new process) shows the placeholder; the client's own
        // data still opens.
        let fresh = MarketplaceService(store: store, masterKey: .forTests)
        let freelancerState = String(
            decoding: try await fresh.fold("freelancer-\(scene.freelancer.uuidString.lowercased())").stateJSON,
            as: UTF8.self)
        #expect(freelancerState.contains(PersonalData.placeholder))
        #expect(!freelancerState.contains(scene.secrets["freelancerName"]!))
        let contract = try await fresh.fold("contract-\(scene.contract.uuidString.lowercased())")
        let contractText = String(decoding: contract.stateJSON, as: UTF8.self)
        for field in ["note1", "changes", "dispute", "resolution", "reviewByClient"] {
            #expect(!contractText.contains(scene.secrets[field]!), "time travel shows \(field)")
        }
        #expect(contractText.contains(PersonalData.placeholder))
        let gigText = String(
            decoding: try await fresh.fold("gig-\(scene.gig.uuidString.lowercased())").stateJSON, as: UTF8.self)
        #expect(gigText.contains(scene.secrets["title"]!), "the client's gig title is theirs, still readable")

        // The contract and its payment still add up: same state as before but for the texts.
        let paid = try await scene.pool.query(
            """
            SELECT (data->'gross'->>'minorUnits')::bigint, (data->'platformFee'->>'minorUnits')::bigint,
                   (data->'net'->>'minorUnits')::bigint
            FROM ledger.events WHERE event_type = 'PaymentReleased' AND stream_id = \("contract-\(scene.contract.uuidString.lowercased())")
            """
        ).rows
        try #require(paid.count == 1)
        let gross = try paid[0].decode(Int64.self, at: 0)
        let fee = try paid[0].decode(Int64.self, at: 1)
        let net = try paid[0].decode(Int64.self, at: 2)
        #expect(gross == 200_000 && gross == fee + net)
        #expect(contractText.contains("\"completed\""), "the contract is still completed")

        // The export after forget shows only placeholders.
        let export = try await fresh.vault.export(scene.freelancerSubject)
        let exported = String(decoding: try Self.encoder.encode(export), as: UTF8.self)
        #expect(export.erasure?.reason == "gdpr-art17")
        #expect(exported.contains(PersonalData.placeholder))
        for secret in theirs { #expect(!exported.contains(secret), "the export after forget holds a forgotten string") }

        // Deciding is unchanged: the forgotten freelancer's rules still run on ids and amounts,
        // and the repeat of their registration is still one (an erased name matches; facts decide).
        #expect(try await scene.market.run(register(scene.secrets["freelancerName"]!)).changedNothing)
        try await scene.market.run([
            "command": "ChangeRate", "actor": .string("freelancer:\(scene.freelancer.uuidString.lowercased())"),
            "freelancerId": .string(scene.freelancer.uuidString), "hourlyRate": money(9_500),
        ])
        // Rebuilt read models equal the live ones, erasure or not.
        for projector in ShippedProjectors.all {
            let report = try await engine.verify(projector)
            #expect(report.identical, "\(projector.name) differs after the erasure: \(report.differences)")
        }
        await scene.pool.close()
    }

    @Test func readModelsHoldIdsOnlyNeverPersonalTextNorCiphertext() async throws {
        let scene = try await Self.scene("privacyreadmodels")
        let engine = ProjectionEngine(
            store: EventStore(pool: scene.pool), projectors: ShippedProjectors.all, owner: "privacy-read-models")
        try await engine.prepare()
        try await engine.catchUpAll()
        let hits = try await Self.scan(scene.pool, for: Array(scene.secrets.values) + [PersonalData.envelopePrefix])
        // The log is ledger.events and its partitions (ledger.events_<first position>).
        let outside = hits.filter { !$0.hasPrefix("ledger.events.") && !$0.hasPrefix("ledger.events_") }
        #expect(outside == [], "personal data outside the log: \(hits)")
        await scene.pool.close()
    }

    @Test func aWrongMasterKeyIsRefusedBeforeAnythingIsWritten() async throws {
        let pool = try await TestDatabase.fresh("privacywrongkey")
        let right = MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests)
        try await right.vault.verifyMasterKey()
        let wrong = MarketplaceService(
            store: EventStore(pool: pool), masterKey: try MasterKey(base64: MasterKey.generate()))
        let id = UUID()
        await #expect(throws: PrivacyError.self) { try await wrong.vault.verifyMasterKey() }
        do {
            try await wrong.execute(
                try CommandInput(fields: [
                    "command": "RegisterClient", "actor": .string("client:\(id.uuidString.lowercased())"),
                    "clientId": .string(id.uuidString), "name": "Never Stored", "country": "DE",
                    "paymentVerified": .bool(false),
                ]
                ).command())
            Issue.record("a command ran with the wrong master key")
        } catch {
            let classified = ErrorClassification(error)
            #expect(classified.code == "MASTER_KEY_WRONG" && classified.category == .schemaMissing)
        }
        #expect(try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int64.self) == 0)
        #expect(try await Self.scan(pool, for: ["Never Stored"]) == [])
        // No key configured at all: refused with its own code.
        #expect(throws: PrivacyError.self) { try MasterKey.configured(environment: [:], searchingFrom: nil) }
        await pool.close()
    }

    @Test func rotatingTheMasterKeyKeepsEverythingReadable() async throws {
        let scene = try await Self.scene("privacyrotate")
        let newKey = try MasterKey(base64: MasterKey.generate())
        let count = try await scene.market.service.vault.rotateMasterKey(to: newKey)
        #expect(count == 2, "one data key per subject")
        let rotated = MarketplaceService(store: EventStore(pool: scene.pool), masterKey: newKey)
        let state = String(
            decoding: try await rotated.fold("contract-\(scene.contract.uuidString.lowercased())").stateJSON,
            as: UTF8.self)
        #expect(state.contains(scene.secrets["note1"]!))
        let old = MarketplaceService(store: EventStore(pool: scene.pool), masterKey: .forTests)
        await #expect(throws: PrivacyError.self) { try await old.vault.verifyMasterKey() }
        await scene.pool.close()
    }

    @Test func dataKeysAreDeletedOnlyByForgetAndErasuresNever() async throws {
        let pool = try await TestDatabase.fresh("privacykeyguard")
        let market = Market(service: MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests))
        let client = try await market.registerClient()
        let subject = "client:\(client.uuidString.lowercased())"
        func keys() async throws -> Int64 {
            try await pool.query("SELECT count(*) FROM privacy.subject_keys WHERE subject = \(subject)").scalar(
                Int64.self)
        }
        #expect(try await keys() == 1)
        // Not even the tables' owner deletes, changes or truncates a key outside privacy.forget().
        await #expect(throws: PQError.self) {
            try await pool.query("DELETE FROM privacy.subject_keys WHERE subject = \(subject)")
        }
        await #expect(throws: PQError.self) {
            try await pool.query(
                "UPDATE privacy.subject_keys SET subject = \("client:\(UUID())") WHERE subject = \(subject)")
        }
        await #expect(throws: PQError.self) { try await pool.query("TRUNCATE privacy.subject_keys") }
        #expect(try await keys() == 1)
        _ = try await market.service.vault.forget(
            .client(ClientID(client)), reason: "gdpr-art17", actor: .admin("dpo"))
        #expect(try await keys() == 0)
        // The record of the erasure is append-only.
        await #expect(throws: PQError.self) {
            try await pool.query("DELETE FROM privacy.erasures WHERE subject = \(subject)")
        }
        #expect(
            try await pool.query("SELECT count(*) FROM privacy.erasures WHERE subject = \(subject)").scalar(Int64.self)
                == 1)
        await pool.close()
    }

    /// Archival (`gigctl log partitions archive`) writes the envelopes as stored: the archive
    /// file holds no personal plaintext, a subject whose events left the log can still be
    /// forgotten, and a partition read back from the archive (`--archive` on rebuild and verify)
    /// brings nothing of theirs back: no key opens it.
    @Test func anArchivedPartitionHoldsCiphertextOnlyAndBringsNoErasedSubjectBack() async throws {
        let scene = try await Self.scene("privacyarchive", partitionSize: 40)
        let store = EventStore(pool: scene.pool)
        let head = try await scene.pool.query("SELECT max(global_position) FROM ledger.events").scalar(Int64.self)
        try #require(head < 40, "the scene fits in the first partition")
        // Move the log past the first partition, so it can be archived.
        _ = try await store.append(
            (head..<41).map { _ in NewEvent(type: "ArchiveProbe", schemaVersion: 1, data: PGJSON(text: "{}")) },
            to: try StreamName(category: "probe", id: UUID().uuidString.lowercased()), expecting: .noStream,
            metadata: EventMetadata(actor: "system", commandId: UUID()))
        let inFirst = try await scene.pool.query("SELECT count(*) FROM ledger.events WHERE global_position < 41")
            .scalar(Int64.self)
        let file = FileManager.default.temporaryDirectory.appending(path: "gigledger-privacy-\(UUID()).ndjson")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forWritingTo: file)
        let archive = try await store.archivePartition("events_1", dropTable: true) {
            try handle.write(contentsOf: Data($0))
        }
        try handle.close()
        #expect(archive.events == inFirst && archive.dropped)
        let archived = try String(contentsOf: file, encoding: .utf8)
        #expect(archived.contains(PersonalData.envelopePrefix), "the archive carries the envelopes")
        for (field, secret) in scene.secrets {
            #expect(!archived.contains(secret), "the archive file holds \(field) in plaintext")
        }

        // Forgetting needs the subject's stream, not its events: it works with them archived.
        let outcome = try await scene.market.service.vault.forget(
            scene.freelancerSubject, reason: "gdpr-art17", actor: .admin("dpo"))
        #expect(outcome.erased)

        let theirs =
            ["freelancerName", "note1", "artifact", "changes", "note2", "dispute", "resolution"]
            .map { scene.secrets[$0]! } + [scene.secrets["reviewByClient"]!, scene.secrets["reviewByFreelancer"]!]
        let fresh = MarketplaceService(store: store, masterKey: .forTests)
        try await store.withRestoredArchives([file.path]) { restored in
            #expect(restored.map(\.events) == [inFirst])
            // Back in the log, the events are the ciphertext they were; no key opens the
            // freelancer's fields, while the client's own still open.
            #expect(try await Self.scan(scene.pool, for: theirs) == [])
            let freelancer = String(
                decoding: try await fresh.fold("freelancer-\(scene.freelancer.uuidString.lowercased())").stateJSON,
                as: UTF8.self)
            #expect(freelancer.contains(PersonalData.placeholder))
            #expect(!freelancer.contains(scene.secrets["freelancerName"]!))
            let gig = String(
                decoding: try await fresh.fold("gig-\(scene.gig.uuidString.lowercased())").stateJSON, as: UTF8.self)
            #expect(gig.contains(scene.secrets["title"]!), "the client's gig title is still readable")
            let export = String(
                decoding: try Self.encoder.encode(try await fresh.vault.export(scene.freelancerSubject)), as: UTF8.self)
            #expect(export.contains(PersonalData.placeholder))
            for secret in theirs { #expect(!export.contains(secret), "the export shows a forgotten string") }
        }
        await scene.pool.close()
    }

    /// The service that forgets (the HTTP erasure goes through it) keeps no state folded with
    /// the subject's fields opened: its cache is emptied, and the next fold reads the placeholder.
    @Test func theServiceThatForgetsKeepsNoOpenedStateInMemory() async throws {
        let scene = try await Self.scene("privacyforgetcache")
        let service = scene.market.service
        let stream = try MarketplaceStream(parsing: "freelancer-\(scene.freelancer.uuidString.lowercased())")
        let key = MarketplaceService.cacheKey(FreelancerDecider.self, stream)
        // Cached by the scene's commands, the name opened.
        _ = try await service.load(FreelancerDecider.self, stream)
        #expect(service.cache.get(key, as: FreelancerState.self)?.0.profile?.name == scene.secrets["freelancerName"])
        let outcome = try await service.forget(scene.freelancerSubject, reason: "gdpr-art17", actor: .admin("dpo"))
        #expect(outcome.erased)
        #expect(service.cache.get(key, as: FreelancerState.self) == nil, "the opened state is still cached")
        let (state, _) = try await service.load(FreelancerDecider.self, stream)
        #expect(state.profile?.name == PersonalData.placeholder)
    }

    @Test func forgettingSomeoneUnknownIsNotFound() async throws {
        let pool = try await TestDatabase.fresh("privacyunknown")
        let vault = PersonalDataVault(pool: pool, masterKey: .forTests)
        do {
            _ = try await vault.forget(.client(ClientID(UUID())), reason: "gdpr-art17", actor: .admin("dpo"))
            Issue.record("forgot a client that does not exist")
        } catch {
            #expect(error.code == .subjectNotFound)
        }
        await #expect(throws: PrivacyError.self) {
            _ = try await vault.forget(.client(ClientID(UUID())), reason: "Because I said so", actor: .admin("dpo"))
        }
        await pool.close()
    }
}
