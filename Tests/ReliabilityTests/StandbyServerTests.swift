import EventStore
import Foundation
import Hummingbird
import HummingbirdTesting
import PQ
import Projections
import Server
import TestSupport
import Testing

@testable import GigLedger

/// The HTTP service with its reads on a hot standby (`gigctl serve --read-url`): commands go to
/// the primary, read models and `minPosition` waits to the standby, which hears no NOTIFY and so
/// is polled for its replicated checkpoints.
@Suite("The service reading from a hot standby", .serialized)
struct StandbyServerTests {
    static let key = TokenKey(kid: "standby", material: .hs256(secret: Array(repeating: 9, count: 32)))

    @Test func aReadWithMinPositionWaitsUntilTheStandbyHasReplayedTheProjectorsPastIt() async throws {
        let primary = try await ThrowawayCluster.start("standby-server")
        defer { primary.destroy() }
        let standby = try await primary.startStandby()
        defer { standby.destroy() }
        let pool = ConnectionPool(config: primary.config, maxConnections: 4)
        let replay = ConnectionPool(config: standby.config, maxConnections: 1)
        let service = MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests)
        let engine = ProjectionEngine(
            store: EventStore(pool: pool), projectors: ShippedProjectors.all, owner: "standby-server-test")
        try await engine.prepare()

        var limits = ServerConfiguration.Limits()
        limits.readWaitMax = .seconds(60)
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, database: primary.config, poolSize: 4, tokenKeys: [Self.key], limits: limits)
        configuration.readDatabase = standby.config
        let built = try await buildApplication(configuration: configuration)
        let token = try await built.parts.authority.issue(for: try Principal(subject: "admin"), ttl: .seconds(600))
        let headers: HTTPFields = [.authorization: "Bearer \(token)"]

        let client = UUID().uuidString.lowercased()
        let gig = UUID().uuidString.lowercased()
        try await service.execute(try Commands.registerClient(client))
        let posted = try await service.execute(try Commands.postGig(gig, by: client))
        let position = try #require(posted.events.last?.position)
        let candidates = "/v1/gigs/\(gig)/candidates?minPosition=\(position)"

        // The standby stops replaying; the projectors pass the gig on the primary. A read that
        // waits a moment is refused: it is the standby that answers, and it is not there yet.
        _ = try await replay.query("SELECT pg_wal_replay_pause()").rows
        try await engine.catchUpAll()
        try await built.application.test(.live) { http in
            let refused = try await http.execute(
                uri: candidates + "&waitMs=300", method: .get, headers: headers, body: nil)
            #expect(refused.status == .serviceUnavailable)
            #expect(String(buffer: refused.body).contains("NOT_YET_PROJECTED"))

            // A read that may wait is answered once replay resumes and the standby's checkpoints
            // pass the gig: polled, since a standby cannot LISTEN.
            async let waited = http.execute(
                uri: candidates + "&waitMs=60000", method: .get, headers: headers, body: nil)
            _ = try await replay.query("SELECT pg_wal_replay_resume()").rows
            let response = try await waited
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let checkpoint = response.headers[.init("GigLedger-Checkpoint")!].flatMap { Int64($0) }
            #expect((checkpoint ?? 0) >= position)
        }
        await replay.close()
        await pool.close()
    }
}
