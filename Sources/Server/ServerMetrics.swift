import Metrics
import PQ
import Projections
import Prometheus

/// The server's metrics, through swift-metrics into one Prometheus registry (served at `/metrics`).
///
/// The factory is injected rather than bootstrapped globally, so several servers (tests) can
/// live in one process; `gigctl serve` also bootstraps it as the process's `MetricsSystem`.
package final class ServerMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    package let factory: PrometheusMetricsFactory

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2.5), .seconds(5), .seconds(10),
        ]
        self.factory = factory
    }

    /// One request: `http_requests_total` and `http_request_duration_seconds` by route, method, status.
    func request(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        Metrics.Counter(label: "http_requests_total", dimensions: labels, factory: factory).increment()
        Metrics.Timer(label: "http_request_duration_seconds", dimensions: labels, factory: factory).recordNanoseconds(
            Self.nanoseconds(duration))
    }

    /// One command: `gigledger_commands_total` by command and outcome, and its latency.
    func command(_ name: String, outcome: String, duration: Duration) {
        Metrics.Counter(
            label: "gigledger_commands_total", dimensions: [("command", name), ("outcome", outcome)], factory: factory
        )
        .increment()
        Metrics.Timer(label: "gigledger_command_duration_seconds", dimensions: [("command", name)], factory: factory)
            .recordNanoseconds(Self.nanoseconds(duration))
    }

    /// Requests refused at once because the server was at its concurrency cap.
    func shed() {
        Metrics.Counter(label: "http_requests_shed_total", factory: factory).increment()
    }

    /// Projector lag and pool use, read when `/metrics` is scraped.
    func observe(status: [ProjectionStatus], pool: (open: Int, idle: Int), poolSize: Int) {
        for projector in status {
            Metrics.Gauge(
                label: "gigledger_projector_lag_events", dimensions: [("projector", projector.name)], factory: factory
            )
            .record(Double(projector.lagEvents))
            Metrics.Gauge(
                label: "gigledger_projector_lag_seconds", dimensions: [("projector", projector.name)], factory: factory
            )
            .record(projector.lagSeconds)
        }
        Metrics.Gauge(label: "gigledger_pool_connections_in_use", factory: factory).record(
            Double(pool.open - pool.idle))
        Metrics.Gauge(label: "gigledger_pool_connections_open", factory: factory).record(Double(pool.open))
        Metrics.Gauge(label: "gigledger_pool_connections_max", factory: factory).record(Double(poolSize))
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    /// The Prometheus text exposition.
    func render() -> String { registry.emitToString() }
}
