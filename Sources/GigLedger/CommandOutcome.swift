import Foundation

/// What a command did: the events it appended, or that it had already taken effect.
public struct CommandOutcome: Sendable, Hashable, Codable {
    /// One event the command appended, where it landed in the log.
    public struct Appended: Sendable, Hashable, Codable {
        /// The stream it was appended to (`gig-<uuid>`).
        public let stream: String
        /// Its version within the stream (1 for the first event).
        public let version: Int64
        /// Its global position in the log.
        public let position: Int64
        /// Its event type name (`BidPlaced`).
        public let type: String
    }
    /// The command's name (`PlaceBid`).
    public let command: String
    /// The command id it ran under; a repeat with the same id is answered from the log.
    public let commandId: UUID
    /// Events appended by this command (for a repeated command id: by its first run).
    public let events: [Appended]
    /// The command id had been handled before; nothing new was appended.
    public let duplicate: Bool
    /// How many times the command was decided (more than 1 after version conflicts).
    public let attempts: Int

    /// Nothing was appended because the command had already taken effect.
    public var changedNothing: Bool { events.isEmpty }
}
