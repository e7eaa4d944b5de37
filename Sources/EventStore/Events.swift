import Foundation
import PQ

/// Who caused an event and why, stored with every event as its `metadata`.
public struct EventMetadata: Hashable, Sendable, Codable {
    /// `client:<id>`, `freelancer:<id>`, `admin:<name>` or `system`.
    public var actor: String
    /// The command that produced the event (also the append's idempotency key).
    public var commandId: UUID
    /// The first command of the conversation this belongs to.
    public var correlationId: UUID
    /// The command or event that caused this command, if any.
    public var causationId: UUID?

    /// Metadata for the events of command `commandId`; `correlationId` defaults to `commandId` (the
    /// command starts its own conversation).
    public init(actor: String, commandId: UUID, correlationId: UUID? = nil, causationId: UUID? = nil) {
        self.actor = actor
        self.commandId = commandId
        self.correlationId = correlationId ?? commandId
        self.causationId = causationId
    }
}

/// An event to append: its type, schema version, JSON data and business time.
public struct NewEvent: Sendable, Hashable {
    /// A CamelCase past-tense name (`BidPlaced`). A storage format: never renamed.
    public var type: String
    /// The version of the data's shape for `type`, starting at 1; raised (with an upcaster) when
    /// the shape changes.
    public var schemaVersion: Int
    /// A JSON object.
    public var data: PGJSON
    /// Business time: when it happened in the domain (defaults to the time of the append).
    public var occurredAt: Date?

    /// An event with JSON `data`; `occurredAt` `nil` means the time of the append.
    public init(type: String, schemaVersion: Int = 1, data: PGJSON, occurredAt: Date? = nil) {
        self.type = type
        self.schemaVersion = schemaVersion
        self.data = data
        self.occurredAt = occurredAt
    }

    /// An event whose data is `payload` encoded as JSON (sorted keys).
    public init<Payload: Encodable>(type: String, schemaVersion: Int = 1, payload: Payload, occurredAt: Date? = nil)
        throws
    {
        self.init(type: type, schemaVersion: schemaVersion, data: try PGJSON(encoding: payload), occurredAt: occurredAt)
    }
}

/// Events for one stream within an append, with what the append expects of that stream.
public struct StreamAppend: Sendable, Hashable {
    /// The stream to append to.
    public var stream: StreamName
    /// What the stream's current version must be for the append to go ahead.
    public var expected: ExpectedVersion
    /// The events to append to it, in order; they get consecutive versions.
    public var events: [NewEvent]
    /// Events for `stream`, stored only if its version matches `expected`.
    public init(stream: StreamName, expected: ExpectedVersion, events: [NewEvent]) {
        self.stream = stream
        self.expected = expected
        self.events = events
    }
}

/// One atomic append to one or more streams, identified by its command id.
public struct AppendRequest: Sendable, Hashable {
    /// Stored with every event of the append; its `commandId` makes the append idempotent.
    public var metadata: EventMetadata
    /// The streams written, each with its expectation; all or none are stored.
    public var streams: [StreamAppend]
    /// Statements run first, in order, in the append's own transaction and round trip: what the
    /// events depend on (a new data subject's key, ``EventStore/append(_:)``). If one fails,
    /// nothing is stored and the append throws its error; if the append fails, what they wrote
    /// is rolled back with it. A retry of the append (same command id) runs them again, so they
    /// must succeed again when their first run committed.
    public var prerequisites: [SQL]
    /// The command id of ``metadata``: the append's idempotency key.
    public var commandId: UUID { metadata.commandId }
    /// An append of `streams` under `metadata`, after `prerequisites` in its transaction.
    public init(metadata: EventMetadata, streams: [StreamAppend], prerequisites: [SQL] = []) {
        self.metadata = metadata
        self.streams = streams
        self.prerequisites = prerequisites
    }
}

/// What an append stored (or, for a repeated command id, what its first attempt stored).
public struct AppendResult: Sendable, Hashable {
    /// A stream written by the append.
    public struct StreamVersion: Sendable, Hashable, Codable {
        /// The stream written.
        public let stream: StreamName
        /// The stream's version after the append.
        public let version: Int64
    }
    /// One stored event: where it landed.
    public struct Stored: Sendable, Hashable, Codable {
        /// The stream it was appended to.
        public let stream: StreamName
        /// Its version within the stream.
        public let version: Int64
        /// Its global position in the log.
        public let position: Int64
    }
    /// The command id the append was made under.
    public let commandId: UUID
    /// `true` when the command id had already been appended: nothing new was stored.
    public let duplicate: Bool
    /// Every stream written, in byte order of their names (the order their locks were taken in).
    public let streams: [StreamVersion]
    /// Every stored event, in the order it was given (which is position order).
    public let events: [Stored]

    /// The version of `stream` after the append.
    public func version(of stream: StreamName) -> Int64? { streams.first { $0.stream == stream }?.version }
    /// The global positions of ``events``, in order.
    public var positions: [Int64] { events.map(\.position) }

    func markedDuplicate() -> AppendResult {
        AppendResult(commandId: commandId, duplicate: true, streams: streams, events: events)
    }

    private init(commandId: UUID, duplicate: Bool, streams: [StreamVersion], events: [Stored]) {
        self.commandId = commandId
        self.duplicate = duplicate
        self.streams = streams
        self.events = events
    }

    /// The JSON `ledger.append` returns and keeps in `ledger.commands`.
    struct StoredJSON: Decodable {
        let commandId: UUID
        let duplicate: Bool?
        let streams: [StreamName]
        let versions: [Int64]
        let eventStreams: [Int]
        let eventVersions: [Int64]
        let positions: [Int64]
    }

    /// Decodes `ledger.append`'s result.
    init(json: PGJSON) throws(EventStoreError) {
        let raw: StoredJSON
        do { raw = try json.decode(StoredJSON.self) } catch {
            throw EventStoreError(.database, "ledger.append returned a result this version cannot read: \(error).")
        }
        guard raw.streams.count == raw.versions.count, raw.eventStreams.count == raw.positions.count,
            raw.eventVersions.count == raw.positions.count,
            raw.eventStreams.allSatisfy({ (1...raw.streams.count).contains($0) })
        else {
            throw EventStoreError(
                .database, "ledger.append returned an inconsistent result for command \(raw.commandId).")
        }
        self.init(
            commandId: raw.commandId, duplicate: raw.duplicate ?? false,
            streams: zip(raw.streams, raw.versions).map { StreamVersion(stream: $0, version: $1) },
            events: raw.positions.indices.map {
                Stored(
                    stream: raw.streams[raw.eventStreams[$0] - 1], version: raw.eventVersions[$0],
                    position: raw.positions[$0])
            })
    }
}

/// A position in the gap-safe log order: (writing transaction, global position).
///
/// A consumer owns its checkpoint: it passes it to ``EventStore/follow(after:filter:batchSize:mode:fallbackPoll:)``
/// or ``EventStore/readAll(after:limit:categories:types:)`` and keeps the one each batch returns.
/// ``token`` turns it into a string (for an HTTP `Last-Event-ID`, a file, a URL) and
/// ``init(token:)`` back, exactly.
public struct LogCheckpoint: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The writing transaction's id (`pg_current_xact_id()`); the first key of the order.
    public let transactionID: UInt64
    /// The global position; the second key, ordering events of one transaction.
    public let position: Int64
    /// The checkpoint at `position` of transaction `transactionID`.
    public init(transactionID: UInt64, position: Int64) {
        self.transactionID = transactionID
        self.position = position
    }
    /// Before the first event.
    public static let start = LogCheckpoint(transactionID: 0, position: 0)
    /// Gap-safe log order: by transaction id, then by position.
    public static func < (lhs: LogCheckpoint, rhs: LogCheckpoint) -> Bool {
        (lhs.transactionID, lhs.position) < (rhs.transactionID, rhs.position)
    }

    /// The checkpoint as a string token, `<transaction id>-<position>` in decimal digits (URL-
    /// and header-safe); ``init(token:)`` reads it back.
    public var token: String { "\(transactionID)-\(position)" }

    /// Reads a ``token``; `nil` unless `token` is exactly two unsigned decimal numbers joined by
    /// `-` (so a client's garbage is refused, never read as some other position).
    public init?(token: String) {
        let parts = token.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let transactionID = UInt64(parts[0]), let position = Int64(parts[1])
        else { return nil }
        self.init(transactionID: transactionID, position: position)
    }

    public var description: String { token }
}

/// An event as stored in the log.
public struct RecordedEvent: Sendable, Hashable {
    /// The global position: unique, increasing in append order, with gaps (rolled-back appends).
    public let position: Int64
    /// The id of the transaction that appended it; with ``position`` its place in the gap-safe
    /// order.
    public let transactionID: UInt64
    /// The stream it belongs to.
    public let stream: StreamName
    /// Its version within the stream: 1 for the stream's first event, without gaps.
    public let version: Int64
    /// The event type name (`BidPlaced`).
    public let type: String
    /// The schema version of ``data``'s shape for ``type``.
    public let schemaVersion: Int
    /// The event's data: a JSON object.
    public let data: PGJSON
    /// Who caused it and under which command.
    public let metadata: EventMetadata
    /// Business time: when it happened in the domain.
    public let occurredAt: Date
    /// When the log stored it: `now()` of the appending transaction.
    public let recordedAt: Date

    /// The checkpoint just after this event.
    public var checkpoint: LogCheckpoint { LogCheckpoint(transactionID: transactionID, position: position) }

    static var columns: SQL { StoredEvent.columns }

    init(row: Row) throws {
        try self.init(try StoredEvent(row: row))
    }

    /// Why metadata did not decode, in a few words (never the value itself).
    private static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _)?: "it has no `\(key.stringValue)`"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            "`\(context.codingPath.map(\.stringValue).joined(separator: "."))` has the wrong type"
        case .dataCorrupted(let context)?:
            context.codingPath.isEmpty
                ? "it is not a JSON object"
                : "`\(context.codingPath.map(\.stringValue).joined(separator: "."))` is malformed"
        default: "it does not decode"
        }
    }

    /// Decodes an event as stored: its stream name and metadata must be GigLedger's (an event
    /// written by another tool may not be); throws ``EventStoreError/Code/undecodableEvent`` naming it.
    public init(_ stored: StoredEvent) throws(EventStoreError) {
        guard let stream = try? StreamName(validating: stored.stream) else {
            throw EventStoreError(
                .undecodableEvent,
                "Event \(stored.position) has the stream name '\(stored.stream)', which is not CATEGORY-ID.")
        }
        let metadata: EventMetadata
        do {
            metadata = try stored.metadata.decode(EventMetadata.self)
        } catch {
            throw EventStoreError(
                .undecodableEvent,
                "The metadata of event \(stored.position) (\(stream) v\(stored.version)) is not GigLedger's: "
                    + Self.reason(error) + " (written by another tool?).",
                cause: nil)
        }
        position = stored.position
        transactionID = stored.transactionID
        self.stream = stream
        version = stored.version
        type = stored.type
        schemaVersion = stored.schemaVersion
        data = stored.data
        self.metadata = metadata
        occurredAt = stored.occurredAt
        recordedAt = stored.recordedAt
    }
}

/// A batch of the global log in gap-safe order, and the checkpoint just after it.
///
/// `Event` is ``RecordedEvent`` (decoded metadata) from ``EventStore/readAll(after:limit:categories:types:)``,
/// or ``StoredEvent`` (as stored, never failing on content) from ``EventStore/follow(after:filter:batchSize:mode:fallbackPoll:)``.
public struct LogBatch<Event: Sendable>: Sendable {
    /// The events, in gap-safe order; empty when nothing readable follows the checkpoint.
    public let events: [Event]
    /// Pass this to the next read: just after the last event returned (or the checkpoint given,
    /// when nothing was returned). Storing it with the batch's effects makes a consumer resume
    /// exactly where it left off: no event is skipped and none repeated.
    public let next: LogCheckpoint

    /// A batch of `events` whose resume point is `next`.
    public init(events: [Event], next: LogCheckpoint) {
        self.events = events
        self.next = next
    }
}
