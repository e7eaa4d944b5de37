import Logging
import PQ

/// Tells a follower of the log when to look again: the one wake-up policy of every follower.
///
/// It holds a session that `LISTEN`s on ``EventStore/notificationChannel`` (every append
/// notifies it). After each look the follower says what it found (``Look``) and waits:
///
/// - ``Look/caughtUp``: nothing after its checkpoint. Wait for the next notification, or for the
///   fallback poll at the latest (so a lost notification costs at most one poll, never an event).
/// - ``Look/heldBack``: events after its checkpoint exist but the gap-safe read cannot pass them
///   yet, because an older transaction somewhere on the server is still open. Their
///   notification may already be spent, so look again by itself soon: after 10 ms, doubling to
///   1 s while it stays held back (a notification ends the wait early and resets the back-off).
///
/// Start listening (``start()``) *before* the first look, so an append between that look and
/// the wait is not missed. When the listening session breaks, ``wait(after:)`` throws; the next
/// call opens a new session and returns at once (notifications may have been missed while
/// there was none). A cancelled task stops waiting within 100 ms, with ``PQError/Code/cancelled``.
///
/// Used by ``LogFollow`` (and through it `gigctl log tail --follow` and the HTTP event stream)
/// and by the projection engine, which reads inside its own transaction.
public actor LogListener {
    /// What a follower's last look found.
    public enum Look: Sendable, Hashable {
        /// Nothing after the checkpoint.
        case caughtUp
        /// Events after the checkpoint that an older open transaction keeps the read from passing.
        case heldBack
    }

    private let config: ConnectionConfig
    /// The channel it listens on (the log's, ``EventStore/notificationChannel``, unless told).
    public let channel: String
    /// The longest wait for a notification before looking anyway.
    public let fallbackPoll: Duration
    /// Caught up on a hot standby (no notifications), the wait before looking again.
    public let standbyPoll: Duration
    private let logger: Logger
    private var connection: Connection?
    private var heldBackRetry = LogListener.firstHeldBackRetry
    /// The session is on a hot standby: no notifications, so waiting is polling.
    private var standby = false

    static let firstHeldBackRetry = Duration.milliseconds(10)
    static let longestHeldBackRetry = Duration.seconds(1)

    /// A listener that connects with `config` (a session of its own, outside any pool: it stays
    /// in `LISTEN` on `channel` for as long as the follower runs). On a hot standby it polls every
    /// `standbyPoll` (or `fallbackPoll` if shorter) instead.
    public init(
        config: ConnectionConfig, channel: String = EventStore.notificationChannel,
        fallbackPoll: Duration = .seconds(5),
        standbyPoll: Duration = .seconds(1), logger: Logger? = nil
    ) {
        self.config = config
        self.channel = channel
        self.fallbackPoll = fallbackPoll
        self.standbyPoll = standbyPoll
        self.logger = logger ?? Logger(label: "gigledger.eventstore.listener")
    }

    /// Opens the session and starts listening (does nothing when already listening). On a hot
    /// standby, which refuses `LISTEN` and never hears the primary's `NOTIFY`, the session only
    /// waits: caught up, it looks again every ``standbyPoll`` (``fallbackPoll`` if shorter).
    public func start() async throws {
        guard connection == nil else { return }
        let fresh = try await Connection.connect(config, logger: logger)
        do {
            standby = try await fresh.isInRecovery()
            if !standby { try await fresh.listen(channel) }
        } catch {
            await fresh.close()
            throw error
        }
        connection = fresh
    }

    /// Waits until it is worth looking at the log again, given what the last look found.
    public func wait(after look: Look) async throws {
        guard let connection else {
            // No session (the first call, or the last one broke): listen afresh and look now.
            try await start()
            return
        }
        let timeout: Duration
        switch look {
        case .caughtUp:
            heldBackRetry = Self.firstHeldBackRetry
            timeout = standby ? min(fallbackPoll, standbyPoll) : fallbackPoll
        case .heldBack:
            timeout = heldBackRetry
        }
        do {
            if try await connection.waitForNotification(timeout: timeout) != nil {
                // Appends notify one by one: drain what has coalesced, one look serves them all.
                while try await connection.waitForNotification(timeout: .zero) != nil {}
                heldBackRetry = Self.firstHeldBackRetry
            } else if look == .heldBack {
                heldBackRetry = min(heldBackRetry * 2, Self.longestHeldBackRetry)
            }
        } catch {
            if error.code != .cancelled {
                // The session broke (a restart, a terminated backend): drop it; the next wait
                // listens on a new one.
                self.connection = nil
                await connection.close()
            }
            throw error
        }
    }

    /// Ends the listening session.
    public func close() async {
        if let connection {
            self.connection = nil
            await connection.close()
        }
    }
}
