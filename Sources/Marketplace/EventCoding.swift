import Foundation

/// The JSON rules of stored event data, shared by every event enum.
enum EventCoding {
    /// Encodes `payload` with sorted keys and times as ``EventTime`` strings.
    static func encode<Payload: EventPayload>(_ payload: Payload) throws(DomainError) -> EncodedEvent {
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
        do {
            let data = try encoder.encode(payload)
            return EncodedEvent(type: Payload.eventType, schemaVersion: Payload.schemaVersion, data: data)
        } catch {
            throw DomainError(
                .unencodableEvent, "The \(Payload.eventType) event cannot be encoded; this is a bug in the domain.",
                cause: error)
        }
    }

    /// Decodes the data of `event` as `Payload`, which must match its type and schema version.
    static func decode<Payload: EventPayload>(_ event: EncodedEvent, as _: Payload.Type) throws(DomainError) -> Payload
    {
        guard event.schemaVersion == Payload.schemaVersion else {
            throw DomainError(
                .unsupportedSchemaVersion,
                "\(event.type) schema version \(event.schemaVersion) is unknown to this version, which reads version \(Payload.schemaVersion): upgrade GigLedger, or add an upcaster for it."
            )
        }
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
            return try decoder.decode(Payload.self, from: event.data)
        } catch {
            throw DomainError(
                .undecodableEvent,
                "The data of a \(event.type) v\(event.schemaVersion) event does not decode: the stored event is corrupt or from another system.",
                cause: error)
        }
    }

    /// The error for a type name no event enum of `aggregate` has.
    static func unknownType(_ type: String, in aggregate: String) -> DomainError {
        DomainError(
            .unknownEventType,
            "The event type \(type.prefix(80)) is not a \(aggregate) event this version knows: upgrade GigLedger, or check the stream holds \(aggregate) events."
        )
    }
}
