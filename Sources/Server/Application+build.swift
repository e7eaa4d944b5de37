import EventStore
import GigLedger
import Hummingbird
import Logging
import PQ
import Projections
import ServiceLifecycle

/// What `buildApplication` made, beside the application: tests reach the pool and the token
/// authority through it.
package struct ServerParts: Sendable {
    package let pool: ConnectionPool
    package let authority: TokenAuthority
    package let metrics: ServerMetrics
    package let store: EventStore
    /// The event streams' one reader of the log.
    package let broadcast: LogBroadcast
    /// Every route the router serves, as `METHOD /path/{param}`.
    package let routes: [String]
}

/// Builds the GigLedger HTTP service: router, middleware, and the services it owns (the pool,
/// closed last on shutdown, the projection watcher, and the event streams' log broadcast). `gigctl serve` runs it in a
/// `ServiceGroup` that shuts it down gracefully on SIGTERM/SIGINT; tests call it too.
package func buildApplication(configuration: ServerConfiguration) async throws -> (
    application: some ApplicationProtocol, parts: ServerParts
) {
    let logger = configuration.logger
    let authority = try await TokenAuthority(keys: configuration.tokenKeys, audience: configuration.audience)
    let pool = ConnectionPool(config: configuration.database, maxConnections: configuration.poolSize, logger: logger)
    let store = EventStore(pool: pool, logger: logger)
    // A missing or wrong master key fails here, before the server listens. A database that
    // cannot be reached yet does not: the server starts (readiness answers 503) and the vault
    // checks the key before it seals or opens anything.
    let vault = PersonalDataVault(pool: pool, masterKey: try configuration.masterKey ?? MasterKey.configured())
    do { try await vault.verifyMasterKey() } catch  where error.code == .store {
        logger.warning("The master key could not be checked yet; it is checked before the first command: \(error)")
    } catch {
        await pool.close()
        throw error
    }
    let service = MarketplaceService(
        store: store, vault: vault, maxAttempts: configuration.commandAttempts, logger: logger)
    let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "gigledger-server")
    // Reads may go to a hot standby; commands, health and the log's positions stay on the primary.
    let readPool =
        configuration.readDatabase.map {
            ConnectionPool(config: $0, maxConnections: configuration.poolSize, logger: logger)
        } ?? pool
    let watcher = ProjectionWatcher(
        pool: readPool, config: configuration.readDatabase ?? configuration.database,
        projectors: ShippedProjectors.all, logger: logger)
    let metrics = ServerMetrics()

    let router = Router(context: ServerContext.self)
    router.add(
        middleware: RequestMiddleware(
            metrics: metrics, gate: ConcurrencyGate(limit: configuration.limits.maxConcurrentRequests),
            bodyLimit: configuration.limits.maxBodyBytes))
    OperationsController(
        pool: pool, engine: engine, metrics: metrics, poolSize: configuration.poolSize, maxLagEvents: 10_000
    ).addRoutes(to: router)
    let v1 = router.group("v1").add(middleware: AuthMiddleware(authority: authority))
    CommandsController(service: service, metrics: metrics).addRoutes(to: v1)
    PrivacyController(service: service).addRoutes(to: v1)
    let reads = ReadResponder(store: store, watcher: watcher, limits: configuration.limits)
    ReadsController(
        service: service, matching: Matching(pool: readPool),
        monitor: ProjectionMonitor(pool: pool, projectors: ShippedProjectors.all), reads: reads
    ).addRoutes(to: v1)
    MarketReadsController(
        service: service, competition: Competition(pool: readPool), prices: Prices(pool: readPool), reads: reads
    )
    .addRoutes(to: v1)
    let broadcast = LogBroadcast(store: store, window: configuration.events.window, logger: logger)
    EventsController(
        store: store, broadcast: broadcast, settings: configuration.events,
        streams: ConcurrencyGate(limit: configuration.limits.maxEventStreams), logger: logger
    ).addRoutes(to: v1)

    let idle = configuration.limits.idleTimeout
    var application = Application(
        router: router,
        server: .http1(
            configuration: .init(
                idleTimeout: .nanoseconds(
                    idle.components.seconds * 1_000_000_000 + idle.components.attoseconds / 1_000_000_000)
            )),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "GigLedger"),
        onServerRunning: { channel in await configuration.onListening?(channel.localAddress?.port ?? 0) },
        logger: logger)
    application.addServices(PoolService(pool: pool), watcher, BroadcastService(broadcast: broadcast))
    if readPool !== pool { application.addServices(PoolService(pool: readPool)) }
    let routes = router.routes.map { "\($0.method.rawValue) \($0.path.description)" }
    return (
        application,
        ServerParts(
            pool: pool, authority: authority, metrics: metrics, store: store, broadcast: broadcast, routes: routes)
    )
}

/// Owns the pool: closes it once graceful shutdown reaches it, after the server has finished
/// its in-flight requests (services shut down in reverse order, the server first).
struct PoolService: Service {
    let pool: ConnectionPool

    func run() async throws {
        try? await gracefulShutdown()
        await pool.close()
    }
}

/// Runs the event streams' ``LogBroadcast`` reader until graceful shutdown (before the pool
/// closes: services shut down in reverse order).
struct BroadcastService: Service {
    let broadcast: LogBroadcast

    func run() async throws {
        await cancelWhenGracefulShutdown { await broadcast.run() }
    }
}
