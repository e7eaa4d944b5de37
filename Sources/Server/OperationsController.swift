import EventStore
import Foundation
import Hummingbird
import PQ
import Projections

/// `/health/live`, `/health/ready`, `/metrics` and (on the API server) `/openapi.json`:
/// unauthenticated, for the platform's probes, Prometheus and clients. The one implementation of
/// health and metrics: the API server mounts it, and so does the projection daemon's ops server
/// (``buildOperationsApplication(configuration:)``, `gigctl projections run --follow --metrics-port`).
struct OperationsController: Sendable {
    let pool: ConnectionPool
    let engine: ProjectionEngine
    let metrics: ServerMetrics
    let poolSize: Int
    /// Ready only while every projector is within this many events of the head.
    let maxLagEvents: Int64
    /// Serve `/openapi.json` (the API server; the daemon has no API to describe).
    var servesDocument = true

    struct Readiness: Codable, Sendable, Equatable {
        struct Check: Codable, Sendable, Equatable {
            let name: String
            let ok: Bool
            let detail: String
        }
        let status: String
        let checks: [Check]
    }

    func addRoutes(to router: Router<ServerContext>) {
        router.get("health/live") { _, _ in try JSONBody.response(["status": "live"]) }
        router.get("health/ready") { _, _ in try await self.ready() }
        router.get("metrics") { _, _ in try await self.scrape() }
        guard servesDocument else { return }
        router.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.data)))
        }
    }

    func ready() async throws -> Response {
        var checks: [Readiness.Check] = []
        do {
            let states = try await pool.withConnection { try await Migrator().status(on: $0) }
            let behind = states.filter { $0.status != .applied }
            checks.append(.init(name: "database", ok: true, detail: "reachable"))
            checks.append(
                .init(
                    name: "schema", ok: behind.isEmpty,
                    detail: behind.isEmpty
                        ? "all \(states.count) migrations applied"
                        : "migrations not applied as shipped: \(behind.map { "\($0.version) (\($0.status.rawValue))" }.joined(separator: ", ")); run gigctl migrate"
                ))
            if behind.isEmpty {
                let projectors = try await engine.status()
                let failed = projectors.filter { $0.state == "failed" }.map(\.name)
                let lagging = projectors.filter { $0.lagEvents > maxLagEvents }.map(\.name)
                checks.append(
                    .init(
                        name: "projectors", ok: failed.isEmpty && lagging.isEmpty,
                        detail: failed.isEmpty && lagging.isEmpty
                            ? "\(projectors.count) projectors within \(maxLagEvents) events of the head"
                            : "failed: \(failed.joined(separator: ", ")); more than \(maxLagEvents) events behind: \(lagging.joined(separator: ", "))"
                    ))
            }
        } catch {
            checks.append(.init(name: "database", ok: false, detail: "unreachable"))
        }
        let ok = checks.allSatisfy(\.ok)
        return try JSONBody.response(
            Readiness(status: ok ? "ready" : "not ready", checks: checks), status: ok ? .ok : .serviceUnavailable)
    }

    func scrape() async throws -> Response {
        if let status = try? await engine.status() {
            metrics.observe(status: status, pool: await pool.counts(), poolSize: poolSize)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
    }
}
