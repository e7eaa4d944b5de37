import EventStore
import Foundation
import GigLedger
import Hummingbird
import HummingbirdTesting
import Projections
import Server
import TestSupport
import Testing

/// The projection daemon's own `/metrics` and health (`gigctl projections run --follow
/// --metrics-port`): the API server's operations code, served alone.
@Suite("Projection daemon operations")
struct DaemonOperationsTests {
    @Test("/metrics shows each projector's lag in events and seconds; /health/ready follows the lag; no API is served")
    func metricsAndHealth() async throws {
        let pool = try await TestDatabase.pool(for: "server_daemon_ops", maxConnections: 4)
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        let c = UUID()
        for var fields in [Commands.registerClient(c), Commands.postGig(client: c)] {
            fields["actor"] = .string("client:\(c.wire)")
            try await service.execute(try CommandInput(fields: fields).command())
        }
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "daemon-ops-test")
        try await engine.prepare()

        let application = buildOperationsApplication(
            configuration: OperationsConfiguration(port: 0, pool: pool, poolSize: 4, maxLagEvents: 1))
        try await application.test(.live) { client in
            #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)

            // Two events and nothing applied: over the lag allowed, not ready.
            let behind = try await client.execute(uri: "/health/ready", method: .get)
            #expect(behind.status == .serviceUnavailable)
            #expect(String(buffer: behind.body).contains("more than 1 events behind"))
            let lagging = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(Self.gauge(lagging, "gigledger_projector_lag_events", "matching") == 2)
            #expect((Self.gauge(lagging, "gigledger_projector_lag_seconds", "matching") ?? -1) >= 0)
            #expect(Self.gauge(lagging, "gigledger_pool_connections_max", nil) == 4)

            // Other suites' open transactions on the same server may hold the gap-safe horizon
            // back for a moment (catchUpAll then stops short): catch up until nothing lags.
            let deadline = ContinuousClock.now.advanced(by: .seconds(120))
            repeat {
                _ = try await engine.catchUpAll()
            } while try await engine.status().contains(where: { $0.lagEvents > 0 }) && ContinuousClock.now < deadline
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .ok, "\(String(buffer: ready.body))")
            let caughtUp = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            for projector in ShippedProjectors.all.map(\.name) {
                #expect(Self.gauge(caughtUp, "gigledger_projector_lag_events", projector) == 0, "\(projector)")
                #expect(Self.gauge(caughtUp, "gigledger_projector_lag_seconds", projector) == 0, "\(projector)")
            }
            #expect(caughtUp.contains("http_requests_total"))
            #expect(try await client.execute(uri: "/openapi.json", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/v1/projections/status", method: .get).status == .notFound)
        }
        try await engine.releaseLeases()
    }

    /// The value of a gauge in Prometheus text, for one projector (or unlabelled).
    static func gauge(_ text: String, _ name: String, _ projector: String?) -> Double? {
        let prefix = projector.map { "\(name){projector=\"\($0)\"} " } ?? "\(name) "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }
}
