import GigLedger
import Logging
import PQ

/// Everything `gigctl serve` (or a test) decides about a server.
package struct ServerConfiguration: Sendable {
    /// Address to bind; loopback unless told otherwise.
    package var host: String
    /// Port to bind; 0 picks a free one (tests).
    package var port: Int
    /// The database: commands, and reads too unless ``readDatabase`` is set.
    package var database: ConnectionConfig
    /// Where the read endpoints read the read models and wait for `minPosition`, e.g. a hot
    /// standby of ``database`` (`gigctl serve --read-url`); nil reads from ``database``. A standby
    /// trails the primary by its replication lag, which a read with `minPosition` waits out.
    package var readDatabase: ConnectionConfig?
    /// Connections in the pool (commands and reads); one more is held for projector notifications.
    package var poolSize: Int
    /// Keys that verify bearer tokens (the first that signs also issues, for `gigctl tokens issue`).
    package var tokenKeys: [TokenKey]
    /// The `aud` a token must carry.
    package var audience: String
    package var limits: Limits
    /// How many times a command is decided before concurrent writers' conflicts answer 409
    /// (``MarketplaceService/maxAttempts``).
    package var commandAttempts: Int = 12
    /// How `GET /v1/events` streams.
    package var events = EventStream()
    /// The master key for personal data (PRIVACY.md); `nil`: the configured one
    /// (`GIGLEDGER_MASTER_KEY_FILE`, `GIGLEDGER_MASTER_KEY`, the local cluster's file). A missing
    /// or wrong key fails `buildApplication` (gigctl serve: exit 78) before anything is served.
    package var masterKey: MasterKey?
    package var logger: Logger
    /// Called once the server listens, with the port it bound (useful with port 0).
    package var onListening: (@Sendable (Int) async -> Void)?

    /// What one client may cost the server.
    package struct Limits: Sendable {
        /// Largest request body accepted (413 beyond).
        package var maxBodyBytes: Int = 64 * 1024
        /// A connection with no traffic for this long is closed. It is also the header read
        /// timeout: a connection counts as idle until a whole request head has arrived, so a
        /// client that sends half its headers (or a body that stops) is cut off after it.
        package var idleTimeout: Duration = .seconds(30)
        /// Requests handled at once; one more answers 503 at once instead of queueing (event
        /// streams are counted separately).
        package var maxConcurrentRequests: Int = 64
        /// Event streams (`/v1/events` as SSE) open at once.
        package var maxEventStreams: Int = 128
        /// How long a read with `minPosition` waits by default for the projectors.
        package var readWaitDefault: Duration = .seconds(2)
        /// The most a client may ask a read to wait (`waitMs`).
        package var readWaitMax: Duration = .seconds(10)
        package init() {}
    }

    /// How `GET /v1/events` streams (Server-Sent Events).
    package struct EventStream: Sendable {
        /// A `: heartbeat` comment goes out after this long without an event, so proxies keep
        /// the connection and a client notices a dead one.
        package var heartbeat: Duration = .seconds(15)
        /// The most events one read of the log takes for one stream (also the most a stream
        /// holds in memory: it writes a batch before reading the next).
        package var batchSize: Int = 500
        /// The fewest latest events the server keeps in memory for its event streams (the
        /// ``LogBroadcast`` window; up to twice as many between trims). A stream further behind
        /// reads the database.
        package var window: Int = 10_000
        package init() {}
    }

    package init(
        host: String = "127.0.0.1", port: Int = 8080, database: ConnectionConfig, poolSize: Int = 10,
        tokenKeys: [TokenKey], audience: String = "gigledger", limits: Limits = Limits(), masterKey: MasterKey? = nil,
        logger: Logger = Logger(label: "gigledger.server")
    ) {
        self.masterKey = masterKey
        self.host = host
        self.port = port
        self.database = database
        self.poolSize = poolSize
        self.tokenKeys = tokenKeys
        self.audience = audience
        self.limits = limits
        self.logger = logger
    }
}
