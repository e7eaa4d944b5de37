import Foundation

/// A Swift value that can be bound to a statement parameter (text format).
public protocol PGEncodable: Sendable {
    /// The parameter's type; ``PGType/unspecified`` lets the server infer it from the statement.
    static var pgType: PGType { get }
    /// The value in PostgreSQL's text input format.
    var pgText: String { get }
}

/// Why one cell could not be decoded; ``Row`` turns it into a ``PQError`` naming the column.
public enum PGDecodingFailure: Error, Sendable {
    case unexpectedNull
    case typeMismatch(accepted: String)
    case malformed(String)
}

/// A Swift type a result column (text format) can be decoded into.
public protocol PGDecodable: Sendable {
    /// Decodes `text` (`nil` for SQL `NULL`) of the column type `type`.
    static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Self
}

extension PGDecodable {
    @inline(__always)
    static func require(_ text: String?) throws(PGDecodingFailure) -> String {
        guard let text else { throw .unexpectedNull }
        return text
    }
}

extension Optional: PGDecodable where Wrapped: PGDecodable {
    /// SQL `NULL` decodes as `nil`; any other value as `Wrapped` does.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Wrapped? {
        guard let text else { return nil }
        return try Wrapped.pgDecode(text, type: type)
    }
}

// MARK: - Text

extension String: PGEncodable, PGDecodable {
    /// Unspecified: the server infers the parameter's type from the statement (cast it, `$1::text`,
    /// where that is ambiguous).
    public static var pgType: PGType { .unspecified }
    /// The string itself.
    public var pgText: String { self }
    /// Any column decodes as its text representation.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> String {
        try require(text)
    }
}

extension Substring: PGEncodable {
    /// Unspecified, as for `String`.
    public static var pgType: PGType { .unspecified }
    /// The substring as a `String`.
    public var pgText: String { String(self) }
}

// MARK: - Integers

private func decodeInteger<T: FixedWidthInteger>(_ text: String?, _ type: PGType) throws(PGDecodingFailure) -> T {
    guard let text else { throw .unexpectedNull }
    guard type.isInteger || type == .numeric || type == .xid8 || type.isTextual else {
        throw .typeMismatch(accepted: "smallint, integer, bigint, xid8 or numeric without fraction")
    }
    guard let value = T(text) else { throw .malformed("not a whole number that fits \(T.self)") }
    return value
}

extension Int: PGEncodable, PGDecodable {
    /// `bigint` (`int8`).
    public static var pgType: PGType { .int8 }
    /// Decimal digits.
    public var pgText: String { String(self) }
    /// Accepts any integer column, `xid8`, `numeric` without a fraction, or text; throws
    /// `malformed` when the value does not fit.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Int {
        try decodeInteger(text, type)
    }
}

extension Int64: PGEncodable, PGDecodable {
    /// `bigint` (`int8`).
    public static var pgType: PGType { .int8 }
    /// Decimal digits.
    public var pgText: String { String(self) }
    /// Accepts any integer column, `xid8`, `numeric` without a fraction, or text; throws
    /// `malformed` when the value does not fit.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Int64 {
        try decodeInteger(text, type)
    }
}

extension Int32: PGEncodable, PGDecodable {
    /// `integer` (`int4`).
    public static var pgType: PGType { .int4 }
    /// Decimal digits.
    public var pgText: String { String(self) }
    /// Accepts any integer column, `xid8`, `numeric` without a fraction, or text; throws
    /// `malformed` when the value does not fit.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Int32 {
        try decodeInteger(text, type)
    }
}

extension Int16: PGEncodable, PGDecodable {
    /// `smallint` (`int2`).
    public static var pgType: PGType { .int2 }
    /// Decimal digits.
    public var pgText: String { String(self) }
    /// Accepts any integer column, `xid8`, `numeric` without a fraction, or text; throws
    /// `malformed` when the value does not fit.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Int16 {
        try decodeInteger(text, type)
    }
}

/// `xid8` transaction ids and other unsigned 64-bit values.
extension UInt64: PGEncodable, PGDecodable {
    /// `xid8`.
    public static var pgType: PGType { .xid8 }
    /// Decimal digits.
    public var pgText: String { String(self) }
    /// Accepts `xid8`, any integer column, `numeric` without a fraction, or text; throws
    /// `malformed` for a negative value.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> UInt64 {
        try decodeInteger(text, type)
    }
}

// MARK: - Bool, floating point, exact numeric

extension Bool: PGEncodable, PGDecodable {
    /// `boolean`.
    public static var pgType: PGType { .bool }
    /// `t` or `f`.
    public var pgText: String { self ? "t" : "f" }
    /// Accepts `boolean` or text holding `t`, `true`, `f` or `false`.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Bool {
        let text = try require(text)
        guard type == .bool || type.isTextual else { throw .typeMismatch(accepted: "boolean") }
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: throw .malformed("not a boolean")
        }
    }
}

extension Double: PGEncodable, PGDecodable {
    /// `double precision` (`float8`).
    public static var pgType: PGType { .float8 }
    /// Swift's shortest round-tripping decimal; `NaN`, `Infinity` and `-Infinity` as PostgreSQL
    /// spells them.
    public var pgText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return "\(self)"
    }
    /// Accepts `double precision`, `real`, `numeric`, any integer column, or text (`NaN` and
    /// `±Infinity` included). A `numeric` may lose digits: decode ``PGNumeric`` to keep them.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Double {
        let text = try require(text)
        guard type == .float8 || type == .float4 || type == .numeric || type.isInteger || type.isTextual else {
            throw .typeMismatch(accepted: "double precision, real, numeric or an integer")
        }
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let value = Double(text) else { throw .malformed("not a number") }
            return value
        }
    }
}

/// An exact `numeric` value, kept as PostgreSQL's own text so no digit is lost.
public struct PGNumeric: PGEncodable, PGDecodable, Hashable, CustomStringConvertible {
    /// A plain decimal number (`-12.50`): an optional minus, digits, an optional fraction.
    public let text: String
    /// `text` must be a plain decimal number (`-12.50`).
    public init?(_ text: String) {
        guard text.range(of: #"^-?[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil else { return nil }
        self.text = text
    }
    /// The exact value of `decimal`.
    public init(_ decimal: Decimal) { text = NSDecimalNumber(decimal: decimal).stringValue }
    /// `numeric`.
    public static var pgType: PGType { .numeric }
    /// ``text``.
    public var pgText: String { text }
    public var description: String { text }
    /// The value as a `Decimal` (exact up to 38 significant digits).
    public var decimal: Decimal? { Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) }
    /// Accepts `numeric`, any integer column, or text; throws `malformed` for `NaN` or anything but
    /// a plain decimal number.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> PGNumeric {
        let text = try require(text)
        guard type == .numeric || type.isInteger || type.isTextual else { throw .typeMismatch(accepted: "numeric") }
        guard let value = PGNumeric(text) else { throw .malformed("not a finite decimal number") }
        return value
    }
}

extension Decimal: PGEncodable, PGDecodable {
    /// `numeric`.
    public static var pgType: PGType { .numeric }
    /// The exact decimal digits.
    public var pgText: String { NSDecimalNumber(decimal: self).stringValue }
    /// Exact: refuses values with more significant digits than `Decimal` holds (38).
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Decimal {
        let numeric = try PGNumeric.pgDecode(text, type: type)
        let digits = numeric.text.filter(\.isNumber).drop(while: { $0 == "0" })
        guard digits.count <= 38, let value = numeric.decimal else {
            throw .malformed("has more than 38 significant digits; decode as PGNumeric to keep them all")
        }
        return value
    }
}

// MARK: - UUID, bytea, JSON

extension UUID: PGEncodable, PGDecodable {
    /// `uuid`.
    public static var pgType: PGType { .uuid }
    /// Lower case with hyphens.
    public var pgText: String { uuidString.lowercased() }
    /// Accepts `uuid` or text holding a UUID.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> UUID {
        let text = try require(text)
        guard type == .uuid || type.isTextual else { throw .typeMismatch(accepted: "uuid") }
        guard let value = canonical(text) ?? UUID(uuidString: text) else { throw .malformed("not a UUID") }
        return value
    }

    /// `text` in PostgreSQL's output form (8-4-4-4-12 hex digits, any case) read directly:
    /// Foundation's `UUID(uuidString:)` goes through `sscanf` on Linux, and a read of candidates
    /// decodes hundreds of ids. `nil` for any other form.
    static func canonical(_ text: String) -> UUID? {
        var bytes = [UInt8](repeating: 0, count: 16)
        var count = 0
        var high: UInt8? = nil
        var position = 0
        for char in text.utf8 {
            defer { position += 1 }
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard char == UInt8(ascii: "-") else { return nil }
                continue
            }
            let nibble: UInt8
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = char - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = char - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let first = high {
                guard count < 16 else { return nil }
                bytes[count] = first << 4 | nibble
                count += 1
                high = nil
            } else {
                high = nibble
            }
        }
        guard position == 36, count == 16 else { return nil }
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}

extension Data: PGEncodable, PGDecodable {
    /// `bytea`.
    public static var pgType: PGType { .bytea }
    /// The hex format (`\x0a1b…`).
    public var pgText: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 2 + count * 2)
        out[0] = UInt8(ascii: "\\")
        out[1] = UInt8(ascii: "x")
        var i = 2
        for byte in self {
            out[i] = digits[Int(byte >> 4)]
            out[i + 1] = digits[Int(byte & 0x0f)]
            i += 2
        }
        return String(decoding: out, as: UTF8.self)
    }
    /// Accepts `bytea` in the hex output format (the server's default `bytea_output`).
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Data {
        let text = try require(text)
        guard type == .bytea else { throw .typeMismatch(accepted: "bytea") }
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            throw .malformed("bytea not in hex format (bytea_output must be 'hex')")
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out = Data(capacity: (utf8.count - 2) / 2)
        var i = 2
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else {
                throw .malformed("bad hex digit in bytea")
            }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// A `jsonb` value, carried as its JSON text.
public struct PGJSON: PGEncodable, PGDecodable, Hashable, CustomStringConvertible {
    /// The JSON text as the server returned it (or as given).
    public let text: String
    /// `text` must be valid JSON; the server checks it when the value is bound.
    public init(text: String) { self.text = text }
    /// Encodes `value` with sorted keys, so equal values give equal text.
    public init<T: Encodable>(encoding value: T, encoder: JSONEncoder = PGJSON.defaultEncoder) throws {
        text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }
    /// Decodes the JSON text into `type`; throws the decoder's `DecodingError`.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(text.utf8))
    }
    /// The JSON text as UTF-8 bytes.
    public var data: Data { Data(text.utf8) }
    /// `jsonb`.
    public static var pgType: PGType { .jsonb }
    /// ``text``.
    public var pgText: String { text }
    public var description: String { text }
    /// A new encoder with sorted keys and unescaped slashes (dates in `JSONEncoder`'s default
    /// form); each access returns a fresh instance.
    public static var defaultEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
    /// Accepts `jsonb`, `json` or text; the text is not parsed until ``decode(_:decoder:)``.
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> PGJSON {
        let text = try require(text)
        guard type == .jsonb || type == .json || type.isTextual else { throw .typeMismatch(accepted: "jsonb or json") }
        return PGJSON(text: text)
    }
}

// MARK: - Time

extension Date: PGEncodable, PGDecodable {
    /// `timestamp with time zone` (`timestamptz`).
    public static var pgType: PGType { .timestamptz }
    /// ISO 8601 in UTC with microseconds: `2026-11-27T01:02:03.456789Z`.
    public var pgText: String { PGTimestamp.format(self) }
    /// `timestamptz` (the session runs in UTC) and `timestamp` (taken as UTC).
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> Date {
        let text = try require(text)
        guard type == .timestamptz || type == .timestamp || type.isTextual else {
            throw .typeMismatch(accepted: "timestamptz or timestamp")
        }
        guard let date = PGTimestamp.parse(text) else { throw .malformed("not an ISO timestamp") }
        return date
    }
}

/// Conversions between `Date` and PostgreSQL's ISO timestamp text, to the microsecond.
package enum PGTimestamp {
    // Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// `date` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC, rounded to the microsecond.
    package static func format(_ date: Date) -> String {
        let totalMicros = Int((date.timeIntervalSince1970 * 1_000_000).rounded())
        var days = totalMicros / 86_400_000_000
        var rest = totalMicros % 86_400_000_000
        if rest < 0 {
            rest += 86_400_000_000
            days -= 1
        }
        let (y, m, d) = civilFromDays(days)
        let micros = rest % 1_000_000
        let secs = rest / 1_000_000
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return
            "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):\(pad(secs % 60, 2)).\(pad(micros, 6))Z"
    }

    /// Parses `YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|±HH[:MM[:SS]]]`.
    package static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var v = 0
            for k in 0..<width {
                let c = b[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += width
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = number(4), expect(45), let mo = number(2), expect(45), let d = number(2) else { return nil }
        guard i < b.count, b[i] == 32 || b[i] == 84 else { return nil }
        i += 1
        guard let h = number(2), expect(58), let mi = number(2), expect(58), let s = number(2) else { return nil }
        var micros = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 100_000
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                micros += Int(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < b.count {
            if b[i] == 90 {
                i += 1
            } else if b[i] == 43 || b[i] == 45 {
                let sign = b[i] == 43 ? 1 : -1
                i += 1
                guard let oh = number(2) else { return nil }
                var om = 0
                var os = 0
                if expect(58) {
                    guard let v = number(2) else { return nil }
                    om = v
                }
                if expect(58) {
                    guard let v = number(2) else { return nil }
                    os = v
                }
                offset = sign * (oh * 3600 + om * 60 + os)
            } else {
                return nil
            }
        }
        guard i == b.count, (1...12).contains(mo), (1...31).contains(d), h < 25, mi < 60, s < 61 else { return nil }
        let seconds = daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}

// MARK: - Arrays (one-dimensional)

extension Array: PGEncodable where Element: PGEncodable {
    /// The element type's array type (`int8[]` for `[Int64]`); unspecified when the element type
    /// has no array type listed in ``PGType``.
    public static var pgType: PGType { Element.pgType.arrayType }
    /// A one-dimensional array literal (`{1,2,3}`, elements quoted where needed).
    public var pgText: String { PGArrayText.encode(map { Optional($0.pgText) }) }
}

extension Array: PGDecodable where Element: PGDecodable {
    /// Decodes a one-dimensional array; each element as `Element` (an SQL `NULL` element needs an
    /// optional `Element`).
    public static func pgDecode(_ text: String?, type: PGType) throws(PGDecodingFailure) -> [Element] {
        let text = try require(text)
        let elements = try PGArrayText.decode(text)
        var out: [Element] = []
        out.reserveCapacity(elements.count)
        let elementType = PGArrayText.elementType(of: type)
        for element in elements { out.append(try Element.pgDecode(element, type: elementType)) }
        return out
    }
}

/// PostgreSQL's text format for one-dimensional arrays: `{a,"b c",NULL}`.
enum PGArrayText {
    static func encode(_ elements: [String?]) -> String {
        var out = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { out += "," }
            guard let element else {
                out += "NULL"
                continue
            }
            out += "\""
            for ch in element.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }

    static func elementType(of arrayType: PGType) -> PGType {
        switch arrayType {
        case .boolArray: .bool
        case .int2Array: .int2
        case .int4Array: .int4
        case .int8Array: .int8
        case .textArray: .text
        case .varcharArray: .varchar
        case .float8Array: .float8
        case .timestamptzArray: .timestamptz
        case .numericArray: .numeric
        case .uuidArray: .uuid
        case .jsonbArray: .jsonb
        default: .unknown
        }
    }

    static func decode(_ text: String) throws(PGDecodingFailure) -> [String?] {
        var text = text
        // One pass over the string's own UTF-8 (no copy of it): an element without escapes is
        // made straight from its bytes; only an escaped one is copied byte by byte.
        let result = text.withUTF8 { decode($0) }
        return try result.get()
    }

    private static func decode(_ b: UnsafeBufferPointer<UInt8>) -> Result<[String?], PGDecodingFailure> {
        let (open, close, quote, backslash, comma) = (
            UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: ",")
        )
        guard b.count >= 2, b[0] == open, b[b.count - 1] == close else {
            return .failure(.malformed("not a one-dimensional array literal"))
        }
        var out: [String?] = []
        var i = 1
        let end = b.count - 1
        if i == end { return .success([]) }
        func string(_ from: Int, _ to: Int) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: b[from..<to]), as: UTF8.self)
        }
        while i <= end {
            if b[i] == open { return .failure(.malformed("multi-dimensional arrays are not supported")) }
            if b[i] == quote {
                i += 1
                let start = i
                var escaped = false
                while i < end, b[i] != quote {
                    if b[i] == backslash, i + 1 < end {
                        escaped = true
                        i += 1
                    }
                    i += 1
                }
                guard i < end else { return .failure(.malformed("an array element whose quotes are not closed")) }
                if escaped {
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(i - start)
                    var j = start
                    while j < i {
                        if b[j] == backslash, j + 1 < i { j += 1 }
                        bytes.append(b[j])
                        j += 1
                    }
                    out.append(String(decoding: bytes, as: UTF8.self))
                } else {
                    out.append(string(start, i))
                }
                i += 1
            } else {
                let start = i
                while i < end, b[i] != comma { i += 1 }
                let isNull =
                    i - start == 4 && b[start] == UInt8(ascii: "N") && b[start + 1] == UInt8(ascii: "U")
                    && b[start + 2] == UInt8(ascii: "L") && b[start + 3] == UInt8(ascii: "L")
                out.append(isNull ? nil : string(start, i))
            }
            guard i == end || b[i] == comma else {
                return .failure(.malformed("unexpected character in array literal"))
            }
            i += 1
        }
        return .success(out)
    }
}
