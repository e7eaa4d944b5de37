import EventStore
import Marketplace
import PQ

/// A read model kept up to date from the log.
///
/// The engine hands a projector its events in gap-safe log order, inside a transaction that also
/// moves the projector's checkpoint: the projector's writes and the checkpoint commit together,
/// so every event takes effect exactly once. It must be deterministic (no wall clock, no
/// randomness) so a rebuild from position 0 equals the live tables row for row.
public protocol Projector: Sendable {
    /// Stable name (`matching`, `competition`, …).
    var name: String { get }
    /// The read model's shape version: a new shape is a new version, built beside the old one.
    var version: Int { get }
    /// The tables this projector writes (unqualified names). A rebuild builds exactly these in a
    /// shadow schema and swaps them in; verify compares exactly these. Views are not listed: they
    /// are functions of tables and are recreated by ``prepare(on:)``.
    var tables: [String] { get }
    /// The views this projector creates in ``prepare(on:)`` (unqualified; a view depending on
    /// another listed here comes after it). A rebuild's swap drops and recreates them.
    var views: [String] { get }
    /// Creates the projector's tables and views if missing (idempotent). Names are unqualified:
    /// the engine sets `search_path` to the schema being built (`read_models` when live, a
    /// shadow or scratch schema when rebuilding or verifying) ahead of `read_models`.
    func prepare(on connection: Connection) async throws
    /// Applies one event. Events the projector does not care about are ignored; an event it
    /// cannot handle throws, which stops this projector (and only it) at that event.
    func apply(_ event: RecordedEvent, on connection: Connection) async throws
    /// Applies a batch, in order. The default applies event by event; a projector may instead
    /// write a whole batch with a few set-based statements (rebuilds of a large log need that),
    /// and then throws ``UnhandledEvent`` to say which event it could not handle.
    func apply(batch events: [RecordedEvent], on connection: Connection) async throws
}

extension Projector {
    /// None, unless the projector says otherwise.
    public var views: [String] { [] }

    /// Applies the events one by one with ``apply(_:on:)``. A passing fault
    /// (``ProjectionFault/isPassing(_:)``) is rethrown as it is; any other error becomes an
    /// ``UnhandledEvent`` naming the event that raised it.
    public func apply(batch events: [RecordedEvent], on connection: Connection) async throws {
        for event in events {
            do { try await apply(event, on: connection) } catch let error as UnhandledEvent { throw error } catch {
                if ProjectionFault.isPassing(error) { throw error }
                throw UnhandledEvent(event: event, reason: "\(error)")
            }
        }
    }
}

/// A projector of marketplace events: every shipped projector is one.
///
/// It reads events through ``registry`` (`RecordedEvent.decoded(with:)`), so data stored by an
/// older schema version arrives upcast to the payload struct's current shape, and it names the
/// types it reads by the domain's constants (`GigEvent.GigPosted.eventType`), never by string
/// literals. A test fails if a shipped projector is not one, or names a type the registry lacks.
public protocol MarketplaceProjector: Projector {
    /// The event types this projector reads; it ignores every other type.
    var eventTypes: Set<String> { get }
    /// Where the projector's events are decoded (``EventRegistry/marketplace`` unless a test
    /// gives another).
    var registry: EventRegistry { get }
}

/// Which errors during a batch are about the event, and which are passing faults of the database
/// or its connection.
public enum ProjectionFault {
    /// A lost or closed connection, a server shutting down or restarting, a deadlock or
    /// serialization failure, a lock or statement timeout, a cancelled query: the batch rolls
    /// back and is simply tried again later. Such an error never marks a projector failed.
    public static func isPassing(_ error: any Error) -> Bool {
        if error is CancellationError { return true }
        guard let error = error as? PQError else { return false }
        if error.isConnectionLost || error.isTransient { return true }
        if [.poolTimeout, .poolClosed, .cancelled, .timeout].contains(error.code) { return true }
        // 55P03 lock_not_available (lock_timeout), 57014 query_canceled (statement_timeout, cancel).
        return [.lockNotAvailable, .queryCanceled].contains(error.sqlState)
    }
}

/// Thrown by a projector for the event it cannot handle.
public struct UnhandledEvent: Error, Sendable, CustomStringConvertible {
    /// The event the projector could not handle.
    public let event: RecordedEvent
    /// Why, in words for the operator (it is stored as the projector's `last_error`).
    public let reason: String
    /// An unhandled `event`, and why.
    public init(event: RecordedEvent, reason: String) {
        self.event = event
        self.reason = reason
    }
    public var description: String { reason }
}

/// A projector stopped at an event it could not handle.
public struct ProjectionFailure: Error, Sendable, CustomStringConvertible {
    /// The projector's name.
    public let projector: String
    /// The projector's read-model version.
    public let version: Int
    /// The global position of the event it stopped at.
    public let position: Int64
    /// That event's stream.
    public let stream: String
    /// That event's type.
    public let type: String
    /// Why the projector could not handle it.
    public let reason: String
    public var description: String {
        "Projector \(projector) v\(version) stopped at event \(position) (\(stream), \(type)): \(reason). "
            + "Fix the projector or the data, then run it again; it resumes at that event."
    }
}
