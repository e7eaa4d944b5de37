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
    public var schemaVersion: Int
    /// A JSON object.
    public var data: PGJSON
    /// Business time: when it happened in the domain (defaults to the time of the append).
    public var occurredAt: Date?

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
    public var stream: StreamName
    public var expected: ExpectedVersion
    public var events: [NewEvent]
    public init(stream: StreamName, expected: ExpectedVersion, events: [NewEvent]) {
        self.stream = stream
        self.expected = expected
        self.events = events
    }
}

/// One atomic append to one or more streams, identified by its command id.
public struct AppendRequest: Sendable, Hashable {
    public var metadata: EventMetadata
    public var streams: [StreamAppend]
    public var commandId: UUID { metadata.commandId }
    public init(metadata: EventMetadata, streams: [StreamAppend]) {
        self.metadata = metadata
        self.streams = streams
    }
}

/// What an append stored (or, for a repeated command id, what its first attempt stored).
public struct AppendResult: Sendable, Hashable {
    public struct StreamVersion: Sendable, Hashable, Codable {
        public let stream: StreamName
        /// The stream's version after the append.
        public let version: Int64
    }
    public struct Stored: Sendable, Hashable, Codable {
        public let stream: StreamName
        public let version: Int64
        public let position: Int64
    }
    public let commandId: UUID
    /// `true` when the command id had already been appended: nothing new was stored.
    public let duplicate: Bool
    public let streams: [StreamVersion]
    /// Every stored event, in the order it was given (which is position order).
    public let events: [Stored]

    /// The version of `stream` after the append.
    public func version(of stream: StreamName) -> Int64? { streams.first { $0.stream == stream }?.version }
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
public struct LogCheckpoint: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let transactionID: UInt64
    public let position: Int64
    public init(transactionID: UInt64, position: Int64) {
        self.transactionID = transactionID
        self.position = position
    }
    /// Before the first event.
    public static let start = LogCheckpoint(transactionID: 0, position: 0)
    public static func < (lhs: LogCheckpoint, rhs: LogCheckpoint) -> Bool {
        (lhs.transactionID, lhs.position) < (rhs.transactionID, rhs.position)
    }
    public var description: String { "\(transactionID)/\(position)" }
}

/// An event as stored in the log.
public struct RecordedEvent: Sendable, Hashable {
    public let position: Int64
    public let transactionID: UInt64
    public let stream: StreamName
    public let version: Int64
    public let type: String
    public let schemaVersion: Int
    public let data: PGJSON
    public let metadata: EventMetadata
    public let occurredAt: Date
    public let recordedAt: Date

    /// The checkpoint just after this event.
    public var checkpoint: LogCheckpoint { LogCheckpoint(transactionID: transactionID, position: position) }

    static let columns: SQL = """
        global_position, transaction_id, stream_id, stream_version, event_type, schema_version, \
        data, metadata, occurred_at, recorded_at
        """

    init(row: Row) throws {
        position = try row.decode(Int64.self, at: 0)
        transactionID = try row.decode(UInt64.self, at: 1)
        stream = try StreamName(validating: try row.decode(String.self, at: 2))
        version = try row.decode(Int64.self, at: 3)
        type = try row.decode(String.self, at: 4)
        schemaVersion = try row.decode(Int.self, at: 5)
        data = try row.decode(PGJSON.self, at: 6)
        let metadataJSON = try row.decode(PGJSON.self, at: 7)
        do {
            metadata = try metadataJSON.decode(EventMetadata.self)
        } catch {
            throw EventStoreError(
                .undecodableEvent,
                "The metadata of event \(position) (\(stream) v\(version)) is not valid GigLedger metadata: \(error).",
                cause: nil)
        }
        occurredAt = try row.decode(Date.self, at: 8)
        recordedAt = try row.decode(Date.self, at: 9)
    }
}

/// A batch of the global log, and where to continue from.
public struct LogBatch: Sendable {
    public let events: [RecordedEvent]
    /// Pass this to the next read: just after the last event returned (or the checkpoint given,
    /// when nothing was returned).
    public let next: LogCheckpoint
}
