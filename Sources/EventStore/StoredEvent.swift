import Foundation
import PQ

/// An event exactly as the log stores it: metadata as raw JSON and the stream name as text.
///
/// Reading one never fails on its content, so a reader that must show every event (`gigctl log
/// tail`, an HTTP event stream) can show one written by another tool, say with metadata that has
/// no `actor`, and go on. ``RecordedEvent/init(_:)`` decodes it into GigLedger's own form.
public struct StoredEvent: Sendable, Hashable {
    /// The global position (see ``RecordedEvent/position``).
    public let position: Int64
    /// The id of the transaction that appended it; with ``position`` its place in the gap-safe
    /// order.
    public let transactionID: UInt64
    /// The stream name as stored (not validated: another tool may have written something else).
    public let stream: String
    /// Its version within the stream.
    public let version: Int64
    /// The event type name (`BidPlaced`).
    public let type: String
    /// The schema version of ``data``'s shape for ``type``.
    public let schemaVersion: Int
    /// The event's data: a JSON object.
    public let data: PGJSON
    /// The event's metadata as stored (GigLedger writes ``EventMetadata``; other tools may not).
    public let metadata: PGJSON
    /// Business time: when it happened in the domain.
    public let occurredAt: Date
    /// When the log stored it: `now()` of the appending transaction.
    public let recordedAt: Date

    /// The checkpoint just after this event.
    public var checkpoint: LogCheckpoint { LogCheckpoint(transactionID: transactionID, position: position) }

    package static let columns: SQL = """
        global_position, transaction_id, stream_id, stream_version, event_type, schema_version, \
        data, metadata, occurred_at, recorded_at
        """

    package init(row: Row) throws {
        position = try row.decode(Int64.self, at: 0)
        transactionID = try row.decode(UInt64.self, at: 1)
        stream = try row.decode(String.self, at: 2)
        version = try row.decode(Int64.self, at: 3)
        type = try row.decode(String.self, at: 4)
        schemaVersion = try row.decode(Int.self, at: 5)
        data = try row.decode(PGJSON.self, at: 6)
        metadata = try row.decode(PGJSON.self, at: 7)
        occurredAt = try row.decode(Date.self, at: 8)
        recordedAt = try row.decode(Date.self, at: 9)
    }
}
