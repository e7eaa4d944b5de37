import Foundation
import HummingbirdTesting
import PQ
import Server
import TestSupport
import Testing

@Suite("Operations")
struct OperationsTests {
    @Test("live, ready and metrics need no token; metrics count requests and commands")
    func probesAndMetrics() async throws {
        try await ServerHarness.withServer("server_ops_probes") { client in
            let live = try await client.send(.get, "/health/live")
            #expect(live.status == .ok)
            let ready = try await client.send(.get, "/health/ready")
            #expect(ready.json?["checks"] != nil)
            #expect(ready.status == .ok || ready.status == .serviceUnavailable)
            let id = UUID()
            #expect(try await client.command(Commands.registerClient(id), as: "client:\(id.wire)").status == .created)
            let metrics = try await client.send(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("http_requests_total{"))
            #expect(metrics.text.contains(#"gigledger_commands_total{command="RegisterClient",outcome="appended"}"#))
            #expect(metrics.text.contains("http_request_duration_seconds_bucket"))
            #expect(metrics.text.contains("gigledger_pool_connections_in_use"))
            let unknown = try await client.send(.get, "/no/such/route")
            #expect(unknown.status == .notFound)
            #expect(unknown.headers[.contentType] == "application/problem+json")
        }
    }

    @Test("ready is 503 when the database cannot be reached")
    func notReady() async throws {
        let nowhere = ConnectionConfig(
            "postgresql://gigledger@127.0.0.1:1/none?connect_timeout=2", applicationName: "test")
        try await ServerHarness.withServer("server_ops_notready", database: nowhere) { client in
            let ready = try await client.send(.get, "/health/ready")
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json?["status"] == "not ready")
            #expect(try await client.send(.get, "/health/live").status == .ok)
        }
    }

    @Test("over the concurrency cap, requests are answered 503 OVERLOADED at once")
    func shedsLoad() async throws {
        var limits = ServerHarness.testLimits
        limits.maxConcurrentRequests = 1
        try await ServerHarness.withServer("server_ops_shed", limits: limits, setup: .ahc(.http)) { client in
            let c = UUID()
            let owner = "client:\(c.wire)"
            #expect(try await client.command(Commands.registerClient(c), as: owner).status == .created)
            let posted = try await client.command(Commands.postGig(client: c), as: owner)
            let gig = try #require(posted.json?["ids"]?["gigId"]?.stringValue)
            guard case .number(let raw)? = posted.json?["position"] else {
                Issue.record("no position in \(posted.text)")
                return
            }
            let position = Int64(raw)
            let token = try await client.token(owner)
            // No projector runs: each read holds its slot while it waits for the position.
            let codes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await client.send(
                            .get, "/v1/gigs/\(gig)/candidates?minPosition=\(position)&waitMs=1500", token: token
                        ).code
                    }
                }
                var codes: [String] = []
                for try await code in group { codes.append(code) }
                return codes
            }
            #expect(codes.contains("OVERLOADED"))
            #expect(codes.allSatisfy { $0 == "OVERLOADED" || $0 == "NOT_YET_PROJECTED" }, "\(codes)")
        }
    }
}
