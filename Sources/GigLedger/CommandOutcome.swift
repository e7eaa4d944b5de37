import Foundation

/// What a command did: the events it appended, or that it had already taken effect.
public struct CommandOutcome: Sendable, Hashable, Codable {
    public struct Appended: Sendable, Hashable, Codable {
        public let stream: String
        public let version: Int64
        public let position: Int64
        public let type: String
    }
    public let command: String
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
