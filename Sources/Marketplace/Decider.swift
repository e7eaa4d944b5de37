/// An aggregate's pure decision logic, in the Equinox "Decider" shape.
///
/// - `decide(command, state)` returns the events the command causes, or throws a ``DomainError``
///   and causes nothing. It reads no clock and draws no random numbers: time and new ids arrive in
///   the command. A command that has already taken effect decides no events.
/// - `evolve(state, event)` applies one event. It is total: an event that does not fit the state
///   (which a well-formed stream never holds) leaves the state unchanged rather than trapping.
///
/// The handler folds a stream's events into a state, decides, and appends the result with the
/// stream version it read (retrying on a concurrency conflict by re-reading and re-deciding).
public protocol Decider {
    /// The aggregate's command enum (``GigCommand``, …).
    associatedtype Command: Sendable
    /// The aggregate's event enum, stored in its streams.
    associatedtype Event: DomainEvent
    /// The state folded from the aggregate's stream.
    associatedtype State: Equatable & Sendable
    /// What `decide` returns: `[Event]`, or a multi-stream decision (see ``GigDecision``).
    associatedtype Decision: Sendable

    /// The state of a stream with no events.
    static var initialState: State { get }

    /// The events `command` causes in `state`.
    static func decide(_ command: Command, _ state: State) throws(DomainError) -> Decision

    /// `state` after `event`.
    static func evolve(_ state: State, _ event: Event) -> State
}

extension Decider {
    /// The state after `events`, starting from `state` (by default the empty stream's).
    public static func fold<Events: Sequence<Event>>(_ events: Events, from state: State = initialState) -> State {
        events.reduce(state, evolve)
    }

    /// `decide`, as a `Result`.
    public static func decision(_ command: Command, _ state: State) -> Result<Decision, DomainError> {
        Result { () throws(DomainError) -> Decision in try decide(command, state) }
    }
}
