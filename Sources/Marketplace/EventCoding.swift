import Foundation

/// The JSON rules of stored event data (sorted keys, times as ``EventTime`` strings), used by
/// ``EventRegistry``, which decides types and versions.
enum EventCoding {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            guard let text = EventTime.string(from: date) else {
                throw EncodingError.invalidValue(
                    date,
                    .init(
                        codingPath: encoder.codingPath, debugDescription: "The time lies outside the years 1970–9999."))
            }
            var container = encoder.singleValueContainer()
            try container.encode(text)
        }
        return encoder
    }

    /// Encodes `payload` with sorted keys and times as ``EventTime`` strings.
    static func encode<Payload: EventPayload>(_ payload: Payload) throws(DomainError) -> Data {
        do { return try encoder().encode(payload) } catch {
            throw DomainError(
                .unencodableEvent, "The \(Payload.eventType) event cannot be encoded; this is a bug in the domain.",
                cause: error)
        }
    }

    /// Decodes `data`, already at the current schema `version` of `type`, as `Payload`.
    static func decode<Payload: EventPayload>(_: Payload.Type, from data: Data, type: String, version: Int)
        throws(DomainError) -> Payload
    {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = EventTime.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "A time must look like 2026-03-01T09:30:00.000Z.")
            }
            return date
        }
        do {
            return try decoder.decode(Payload.self, from: data)
        } catch {
            throw DomainError(
                .undecodableEvent,
                "The data of a \(type) v\(version) event does not decode: the stored event is corrupt or from another system.",
                cause: error)
        }
    }
}
