import Foundation

// Property wrappers that make a type's synthesized `Codable` follow the JSON contract
// (docs/JSON.md) whatever encoder settings a client uses: ids lower-case, times RFC 3339 UTC
// strings, and a value that is withheld or unknown an explicit `null` rather than a missing key.

/// An optional encoded as an explicit JSON `null` when it has no value (synthesized `Codable`
/// would leave the key out). Decoding accepts `null` or a missing key.
@propertyWrapper
public struct NullEncoded<Value: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    /// The value; `nil` encodes as `null`.
    public var wrappedValue: Value?
    /// Wraps `wrappedValue`.
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// A UUID encoded in lower case (`UUID`'s own encoding is upper case).
@propertyWrapper
public struct LowercaseUUID: Codable, Sendable, Hashable {
    /// The id; encoded as its lower-case string.
    public var wrappedValue: UUID
    /// Wraps `wrappedValue`.
    public init(wrappedValue: UUID) { self.wrappedValue = wrappedValue }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected a UUID.")
        }
        wrappedValue = id
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.uuidString.lowercased())
    }
}

/// A time encoded as an RFC 3339 string in UTC with milliseconds (`2026-11-02T10:00:00.000Z`),
/// whatever the encoder's date strategy.
@propertyWrapper
public struct RFC3339Time: Codable, Sendable, Hashable {
    /// The time; encoded as RFC 3339 UTC with milliseconds (sub-millisecond digits are dropped).
    public var wrappedValue: Date
    /// Wraps `wrappedValue`.
    public init(wrappedValue: Date) { self.wrappedValue = wrappedValue }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let date = RFC3339.parse(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected an RFC 3339 time.")
        }
        wrappedValue = date
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(RFC3339.format(wrappedValue))
    }
}

/// ``RFC3339Time`` for a time that may be absent: `null` then.
@propertyWrapper
public struct NullableRFC3339Time: Codable, Sendable, Hashable {
    /// The time, or `nil` (encoded as `null`).
    public var wrappedValue: Date?
    /// Wraps `wrappedValue`.
    public init(wrappedValue: Date?) { self.wrappedValue = wrappedValue }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            wrappedValue = nil
            return
        }
        guard let date = RFC3339.parse(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected an RFC 3339 time.")
        }
        wrappedValue = date
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(RFC3339.format(wrappedValue)) } else { try container.encodeNil() }
    }
}

/// The contract's time format.
package enum RFC3339 {
    /// `2026-11-02T10:00:00.000Z`.
    package static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    package static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

extension KeyedDecodingContainer {
    /// A missing key decodes as `nil` (synthesized decoding would require the key).
    public func decode<Value>(_ type: NullEncoded<Value>.Type, forKey key: Key) throws -> NullEncoded<Value> {
        try decodeIfPresent(type, forKey: key) ?? NullEncoded(wrappedValue: nil)
    }

    /// A missing key decodes as `nil` (synthesized decoding would require the key).
    public func decode(_ type: NullableRFC3339Time.Type, forKey key: Key) throws -> NullableRFC3339Time {
        try decodeIfPresent(type, forKey: key) ?? NullableRFC3339Time(wrappedValue: nil)
    }
}

/// Rounds to `places` decimals, half away from zero, so a value prints as its decimal
/// (`0.5456`, never `0.5456000000000001`): the JSON contract's fixed decimals.
package func rounded(_ value: Double, places: Int) -> Double {
    let scale = pow(10, Double(places))
    return (value * scale).rounded() / scale
}
