import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Server
import ServiceLifecycle

/// `gigctl serve`: the GigLedger HTTP service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve commands, read models and the event stream over HTTP (bearer tokens).",
        discussion: """
            Every /v1 request carries Authorization: Bearer <token> (make keys with `gigctl tokens \
            keygen`, tokens with `gigctl tokens issue`). The document of the API is served at \
            /openapi.json; /health/live, /health/ready and /metrics need no token.

            Keys: --token-key (repeatable) or GIGLEDGER_TOKEN_KEYS (comma-separated), each \
            kid:algorithm:material. SIGTERM or SIGINT stops accepting connections, finishes the \
            requests in flight, then closes the database pool.

            Reads (read models, and the waits of reads with minPosition) go to --read-url or \
            READ_DATABASE_URL when set, e.g. a hot standby (scripts/db-up --replica), which the \
            server polls for the projectors' replicated checkpoints; commands always go to the \
            primary.

            Example:
              export GIGLEDGER_TOKEN_KEYS=$(gigctl tokens keygen --kid k1 --algorithm hs256)
              gigctl serve --port 8080
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Address to listen on (default: 127.0.0.1, or GIGLEDGER_BIND).", valueName: "address"))
    var bind: String?

    @Option(
        help: ArgumentHelp(
            "Port to listen on; 0 picks a free one (default: 8080, or GIGLEDGER_PORT).", valueName: "port"))
    var port: Int?

    @Option(
        name: .customLong("token-key"),
        help: ArgumentHelp(
            "A key that verifies tokens, kid:algorithm:material (repeatable; default: GIGLEDGER_TOKEN_KEYS).",
            valueName: "key"))
    var tokenKeys: [String] = []

    @Option(help: ArgumentHelp("The audience tokens must name.", valueName: "aud"))
    var audience = "gigledger"

    @Option(name: .customLong("pool-size"), help: "Database connections for requests.")
    var poolSize = 10

    @Option(name: .customLong("max-concurrent"), help: "Requests handled at once; more are answered 503 at once.")
    var maxConcurrent = 64

    @Option(
        name: .customLong("event-heartbeat"),
        help: ArgumentHelp(
            "Seconds without an event after which /v1/events sends a heartbeat comment.", valueName: "seconds"))
    var eventHeartbeat = 15.0

    func validate() throws {
        guard eventHeartbeat >= 0.05 && eventHeartbeat <= 3600 else {
            throw ValidationError("--event-heartbeat must be 0.05…3600 seconds.")
        }
        guard (0...65535).contains(port ?? 0) else { throw ValidationError("--port must be 0…65535.") }
        guard (1...500).contains(poolSize) else { throw ValidationError("--pool-size must be 1…500.") }
        guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1.") }
    }

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let environment = ProcessInfo.processInfo.environment
            let keys: [TokenKey]
            do {
                keys =
                    tokenKeys.isEmpty
                    ? try TokenKey.parseList(environment["GIGLEDGER_TOKEN_KEYS"] ?? "")
                    : try tokenKeys.map { key throws(AuthError) in try TokenKey(parsing: key) }
            } catch let error as AuthError {
                throw CLIError(.configuration, error.message)
            }
            guard !keys.isEmpty else {
                throw CLIError(
                    .configuration,
                    "No token key: pass --token-key or set GIGLEDGER_TOKEN_KEYS (make one with `gigctl tokens keygen`)."
                )
            }
            let chosenPort = port ?? environment["GIGLEDGER_PORT"].flatMap(Int.init) ?? 8080
            var logger = Logger(label: "gigledger.server")
            logger.logLevel = global.verbose ? .debug : .info
            var database = global.connectionConfig()
            database.applicationName = "gigledger-server"
            var readDatabase = global.readConnectionConfig()
            readDatabase.applicationName = "gigledger-server"
            var limits = ServerConfiguration.Limits()
            limits.maxConcurrentRequests = maxConcurrent
            var configuration = ServerConfiguration(
                host: bind ?? environment["GIGLEDGER_BIND"] ?? "127.0.0.1", port: chosenPort, database: database,
                poolSize: poolSize, tokenKeys: keys, audience: audience, limits: limits,
                masterKey: try global.masterKey(), logger: logger)
            if readDatabase.target != database.target { configuration.readDatabase = readDatabase }
            configuration.events.heartbeat = .milliseconds(Int(eventHeartbeat * 1000))
            let host = configuration.host
            configuration.onListening = { port in
                Output.line("listening on http://\(host):\(port)")
            }
            do {
                let built = try await buildApplication(configuration: configuration)
                MetricsSystem.bootstrap(built.parts.metrics.factory)
                let group = ServiceGroup(
                    configuration: .init(
                        services: [built.application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            } catch let error as AuthError {
                throw CLIError(.configuration, error.message)
            }
        }
    }
}
