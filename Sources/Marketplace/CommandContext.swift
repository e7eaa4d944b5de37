import Foundation

/// What every command carries besides its intent: its id, who issues it and when.
///
/// `decide` reads no clock: every time rule (bidding deadline, review window) compares against
/// ``occurredAt``. The handler sets it to "now" for live requests, or to a past time for backfills
/// and simulations. Times copied into events are rounded to whole milliseconds (the precision of
/// the stored JSON).
public struct CommandContext: Hashable, Sendable {
    /// The command's idempotency key: the event store appends each command id at most once.
    public var commandID: CommandID
    /// Who issues the command.
    public var actor: ActorRef
    /// Business time of the command.
    public var occurredAt: Date

    /// A context for command `commandID` issued by `actor` at business time `occurredAt`.
    public init(commandID: CommandID, actor: ActorRef, occurredAt: Date) {
        self.commandID = commandID
        self.actor = actor
        self.occurredAt = occurredAt
    }
}
