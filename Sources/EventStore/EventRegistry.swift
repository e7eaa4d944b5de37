import Foundation
import PQ

/// Decodes stored events into a Swift type, by (event type, schema version), upcasting data
/// written by older schema versions step by step to the current one, so an event written years
/// ago still reads.
///
/// ```swift
/// var registry = EventRegistry<GigEvent>()
/// registry.register("GigPosted", version: 2) { data in .posted(try JSONDecoder().decode(GigPostedV2.self, from: data)) }
/// registry.upcast("GigPosted", from: 1) { old in var new = old; new["currency"] = .string("EUR"); return new }
/// let event = try registry.decode(recorded)
/// ```
public struct EventRegistry<Event: Sendable>: Sendable {
    public typealias Decoder = @Sendable (Data) throws -> Event
    public typealias Upcaster = @Sendable (JSONValue) throws -> JSONValue

    private var decoders: [String: (version: Int, decode: Decoder)] = [:]
    private var upcasters: [String: [Int: Upcaster]] = [:]

    public init() {}

    /// Registers the decoder of the current schema `version` of `type`.
    public mutating func register(_ type: String, version: Int, decode: @escaping Decoder) {
        decoders[type] = (version, decode)
    }

    /// Registers how data of schema version `from` becomes version `from + 1`.
    public mutating func upcast(_ type: String, from version: Int, _ transform: @escaping Upcaster) {
        upcasters[type, default: [:]][version] = transform
    }

    /// The current schema version of `type`, if registered.
    public func currentVersion(of type: String) -> Int? { decoders[type]?.version }

    /// Decodes `event`, upcasting its data first when it was written by an older schema version.
    public func decode(_ event: RecordedEvent) throws(EventStoreError) -> Event {
        try decode(
            type: event.type, schemaVersion: event.schemaVersion, data: event.data.data,
            where: "event \(event.position) (\(event.stream) v\(event.version))")
    }

    public func decode(type: String, schemaVersion: Int, data: Data, where place: String = "the event")
        throws(EventStoreError) -> Event
    {
        guard let entry = decoders[type] else {
            throw EventStoreError(
                .unknownEventType,
                "\(place) has type \(type), which this version of GigLedger does not know. Upgrade, or register a decoder for it."
            )
        }
        guard schemaVersion <= entry.version else {
            throw EventStoreError(
                .unknownEventType,
                "\(place) is \(type) schema version \(schemaVersion), newer than the \(entry.version) this version knows. Upgrade GigLedger to read it."
            )
        }
        var bytes = data
        if schemaVersion < entry.version {
            do {
                var value = try JSONDecoder().decode(JSONValue.self, from: data)
                for version in schemaVersion..<entry.version {
                    guard let step = upcasters[type]?[version] else {
                        throw EventStoreError(
                            .unknownEventType,
                            "\(place) is \(type) schema version \(schemaVersion), and no upcaster turns version \(version) into \(version + 1)."
                        )
                    }
                    value = try step(value)
                }
                bytes = try PGJSON(encoding: value).data
            } catch let error as EventStoreError {
                throw error
            } catch {
                throw EventStoreError(
                    .undecodableEvent, "Upcasting \(place) (\(type) v\(schemaVersion)) failed: \(error).")
            }
        }
        do {
            return try entry.decode(bytes)
        } catch {
            throw EventStoreError(.undecodableEvent, "\(place) (\(type) v\(entry.version)) does not decode: \(error).")
        }
    }
}
