import EventStore
import Hummingbird
import Logging
import PQ
import Projections

/// What a process other than the API server needs to serve its operations endpoints.
package struct OperationsConfiguration: Sendable {
    /// Address to bind; loopback unless told otherwise.
    package var host: String
    /// Port to bind; 0 picks a free one (tests).
    package var port: Int
    /// The process's pool, whose use `/metrics` reports; health reads through it.
    package var pool: ConnectionPool
    /// The pool's size, reported as `gigledger_pool_connections_max`.
    package var poolSize: Int
    /// Ready only while every projector is within this many events of the head.
    package var maxLagEvents: Int64
    package var logger: Logger
    /// Called once the server listens, with the port it bound (useful with port 0).
    package var onListening: (@Sendable (Int) async -> Void)?

    package init(
        host: String = "127.0.0.1", port: Int, pool: ConnectionPool, poolSize: Int, maxLagEvents: Int64 = 10_000,
        logger: Logger = Logger(label: "gigledger.operations"), onListening: (@Sendable (Int) async -> Void)? = nil
    ) {
        self.host = host
        self.port = port
        self.pool = pool
        self.poolSize = poolSize
        self.maxLagEvents = maxLagEvents
        self.logger = logger
        self.onListening = onListening
    }
}

/// The operations endpoints alone — `/health/live`, `/health/ready` and `/metrics` (projector lag
/// in events and seconds, pool use, the requests to these endpoints) — for the projection daemon
/// (`gigctl projections run --follow --metrics-port P`). The same ``OperationsController`` as the
/// API server's, so both answer alike. Run it as a `Service` (`runService()`); it does not own
/// the pool.
package func buildOperationsApplication(configuration: OperationsConfiguration) -> some ApplicationProtocol {
    let metrics = ServerMetrics()
    let engine = ProjectionEngine(store: EventStore(pool: configuration.pool), projectors: ShippedProjectors.all)
    let router = Router(context: ServerContext.self)
    router.add(middleware: RequestMiddleware(metrics: metrics, gate: ConcurrencyGate(limit: 8), bodyLimit: 1024))
    OperationsController(
        pool: configuration.pool, engine: engine, metrics: metrics, poolSize: configuration.poolSize,
        maxLagEvents: configuration.maxLagEvents, servesDocument: false
    ).addRoutes(to: router)
    return Application(
        router: router, server: .http1(configuration: .init(idleTimeout: .seconds(30))),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "GigLedger projections"),
        onServerRunning: { channel in await configuration.onListening?(channel.localAddress?.port ?? 0) },
        logger: configuration.logger)
}
