import GigLedger
import Logging
import PQ

/// Everything `gigctl serve` (or a test) decides about a server.
public struct ServerConfiguration: Sendable {
    /// Address to bind; loopback unless told otherwise.
    public var host: String
    /// Port to bind; 0 picks a free one (tests).
    public var port: Int
    /// The database: commands, and reads too unless ``readDatabase`` is set.
    public var database: ConnectionConfig
    /// Where the read endpoints read the read models and wait for `minPosition`, e.g. a hot
    /// standby of ``database`` (`gigctl serve --read-url`); nil reads from ``database``. A standby
    /// trails the primary by its replication lag, which a read with `minPosition` waits out.
    public var readDatabase: ConnectionConfig?
    /// Connections in the pool (commands and reads); one more is held for projector notifications.
    public var poolSize: Int
    /// Keys that verify bearer tokens (the first that signs also issues, for `gigctl tokens issue`).
    public var tokenKeys: [TokenKey]
    /// The `aud` a token must carry.
    public var audience: String
    public var limits: Limits
    /// How `GET /v1/events` streams.
    public var events = EventStream()
    /// The master key for personal data (PRIVACY.md); `nil`: the configured one
    /// (`GIGLEDGER_MASTER_KEY_FILE`, `GIGLEDGER_MASTER_KEY`, the local cluster's file). A missing
    /// or wrong key fails `buildApplication` (gigctl serve: exit 78) before anything is served.
    public var masterKey: MasterKey?
    public var logger: Logger
    /// Called once the server listens, with the port it bound (useful with port 0).
    public var onListening: (@Sendable (Int) async -> Void)?

    /// What one client may cost the server.
    public struct Limits: Sendable {
        /// Largest request body accepted (413 beyond).
        public var maxBodyBytes: Int = 64 * 1024
        /// A connection with no traffic for this long is closed (also bounds a client that stops
        /// sending headers half-way).
        public var idleTimeout: Duration = .seconds(30)
        /// Requests handled at once; one more answers 503 at once instead of queueing (event
        /// streams are counted separately).
        public var maxConcurrentRequests: Int = 64
        /// Event streams (`/v1/events` as SSE) open at once.
        public var maxEventStreams: Int = 128
        /// How long a read with `minPosition` waits by default for the projectors.
        public var readWaitDefault: Duration = .seconds(2)
        /// The most a client may ask a read to wait (`waitMs`).
        public var readWaitMax: Duration = .seconds(10)
        public init() {}
    }

    /// How `GET /v1/events` streams (Server-Sent Events).
    public struct EventStream: Sendable {
        /// A `: heartbeat` comment goes out after this long without an event, so proxies keep
        /// the connection and a client notices a dead one.
        public var heartbeat: Duration = .seconds(15)
        /// The most events one read of the log takes for one stream (also the most a stream
        /// holds in memory: it writes a batch before reading the next).
        public var batchSize: Int = 500
        public init() {}
    }

    public init(
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
