import Foundation
import GigLedger
import HummingbirdTesting
import Logging
import Marketplace
import Server
import TestSupport
import Testing

@Suite("POST /v1/admin/erasures")
struct ErasureTests {
    @Test(
        "an admin forgets a client: 201, then 200 with the same position (a no-op); others 403, free-text reasons 400, unknown subjects 404; every answer as documented"
    )
    func adminForgetsOnceAndOnlyAdmins() async throws {
        try await ServerHarness.withServer("server_erasures") { client in
            var conformance = ResponseConformance()
            let clientID = UUID()
            let registered = try await client.command(Commands.registerClient(clientID), as: "client:\(clientID.wire)")
            #expect(registered.status == .created)
            let body: JSONValue = ["subject": .string("client:\(clientID.wire)"), "reason": "gdpr-art17"]

            let head = try await client.head()
            let byTheClient = try await client.send(
                .post, "/v1/admin/erasures", as: "client:\(clientID.wire)", json: body)
            #expect(byTheClient.status == .forbidden)
            conformance.check(byTheClient, "POST", "/v1/admin/erasures")
            let anonymous = try await client.send(.post, "/v1/admin/erasures", json: body)
            #expect(anonymous.status == .unauthorized)
            #expect(try await client.head() == head, "a refused erasure appended nothing")

            let forgotten = try await client.send(.post, "/v1/admin/erasures", as: "admin:dpo", json: body)
            #expect(forgotten.status == .created, "\(forgotten.text)")
            #expect(forgotten.json?["erased"] == true)
            conformance.check(forgotten, "POST", "/v1/admin/erasures")
            let again = try await client.send(.post, "/v1/admin/erasures", as: "admin:dpo", json: body)
            #expect(again.status == .ok)
            #expect(again.json?["erased"] == false)
            #expect(again.json?["position"] == forgotten.json?["position"])
            conformance.check(again, "POST", "/v1/admin/erasures")
            #expect(try await client.head() == head + 1, "one PersonalDataErased, appended once")
            let key = try await client.parts.store.pool.query(
                "SELECT count(*) FROM privacy.subject_keys WHERE subject = \("client:\(clientID.wire)")"
            ).scalar(Int64.self)
            #expect(key == 0, "the data key is gone")

            let freeText = try await client.send(
                .post, "/v1/admin/erasures", as: "admin:dpo",
                json: ["subject": .string("client:\(clientID.wire)"), "reason": "She asked nicely"])
            #expect(freeText.status == .badRequest)
            conformance.check(freeText, "POST", "/v1/admin/erasures")
            let unknown = try await client.send(
                .post, "/v1/admin/erasures", as: "admin:dpo",
                json: ["subject": .string("freelancer:\(UUID().wire)"), "reason": "gdpr-art17"])
            #expect(unknown.status == .notFound)
            #expect(unknown.code == "SUBJECT_NOT_FOUND")
            conformance.check(unknown, "POST", "/v1/admin/erasures")
        }
    }
    @Test(
        "a wrong master key stops the service at start: MASTER_KEY_WRONG (exit 78) before it listens, and nothing is written"
    )
    func aWrongMasterKeyStopsTheServiceAtStart() async throws {
        let pool = try await TestDatabase.fresh("server_wrongkey", maxConnections: 2)
        // The database learns the right key on first use.
        try await PersonalDataVault(pool: pool, masterKey: .forTests).verifyMasterKey()
        var logger = Logger(label: "gigledger.server.test")
        logger.logLevel = .critical
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, database: pool.config, poolSize: 2, tokenKeys: [ServerHarness.key],
            logger: logger)
        configuration.masterKey = try MasterKey(base64: MasterKey.generate())
        do {
            _ = try await buildApplication(configuration: configuration)
            Issue.record("the service was built with the wrong master key")
        } catch {
            let classified = ErrorClassification(error)
            #expect(classified.code == "MASTER_KEY_WRONG", "\(error)")
            // schemaMissing is exit 78 (ErrorReportingTests pins the table).
            #expect(classified.category == .schemaMissing)
        }
        #expect(try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int64.self) == 0)
        await pool.close()
    }
}
