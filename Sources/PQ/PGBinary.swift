import Foundation

/// Values in PostgreSQL's binary wire format, for parameters whose text form costs on both sides:
/// an array of JSON documents as text must escape every quote of every document (and the server
/// must parse the array literal back), where the binary array is a length-prefixed copy.
///
/// ```swift
/// let data = PGBinary.jsonbArray(events.map(\.data.text))
/// let sql: SQL = "SELECT f(\(bind: data))"
/// ```
public enum PGBinary {
    /// A one-dimensional `jsonb[]` (each element: format version 1, then the JSON text).
    public static func jsonbArray(_ documents: [String]) -> PGBind {
        array(of: .jsonb, documents.map { document in [1] + Array(document.utf8) }, type: .jsonbArray)
    }

    /// A one-dimensional `text[]`.
    public static func textArray(_ values: [String]) -> PGBind {
        array(of: .text, values.map { Array($0.utf8) }, type: .textArray)
    }

    /// A one-dimensional `integer[]`.
    public static func int4Array(_ values: [Int32]) -> PGBind {
        array(of: .int4, values.map { bigEndian(UInt32(bitPattern: $0)) }, type: .int4Array)
    }

    /// A one-dimensional `bigint[]`.
    public static func int8Array(_ values: [Int64]) -> PGBind {
        array(of: .int8, values.map { bigEndian(UInt64(bitPattern: $0)) }, type: .int8Array)
    }

    /// A one-dimensional `uuid[]`.
    public static func uuidArray(_ values: [UUID]) -> PGBind {
        array(of: .uuid, values.map { uuidBytes($0) }, type: .uuidArray)
    }

    /// A one-dimensional `timestamptz[]`; `nil` elements are `NULL`. Microseconds since
    /// 2000-01-01 UTC, rounded as ``PGTimestamp/format(_:)`` rounds.
    public static func timestamptzArray(_ values: [Date?]) -> PGBind {
        array(
            of: .timestamptz,
            values.map { date in
                date.map { date in
                    let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) - 946_684_800_000_000
                    return bigEndian(UInt64(bitPattern: micros))
                }
            }, type: .timestamptzArray)
    }

    /// A `uuid`.
    public static func uuid(_ value: UUID) -> PGBind { PGBind(binary: uuidBytes(value), type: .uuid) }

    /// The array wire format: dimensions, has-nulls flag, element type, then per dimension its
    /// length and lower bound (1), then each element as a length (-1 for NULL) and its bytes.
    static func array(of element: PGType, _ elements: [[UInt8]?], type: PGType) -> PGBind {
        var out: [UInt8] = []
        out.reserveCapacity(20 + elements.reduce(0) { $0 + 4 + ($1?.count ?? 0) })
        let hasNull = elements.contains { $0 == nil }
        out += bigEndian(UInt32(1))
        out += bigEndian(UInt32(hasNull ? 1 : 0))
        out += bigEndian(element.rawValue)
        out += bigEndian(UInt32(elements.count))
        out += bigEndian(UInt32(1))
        for element in elements {
            if let element {
                out += bigEndian(UInt32(element.count))
                out += element
            } else {
                out += bigEndian(UInt32.max)  // -1: NULL
            }
        }
        return PGBind(binary: out, type: type)
    }

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    static func uuidBytes(_ value: UUID) -> [UInt8] {
        withUnsafeBytes(of: value.uuid) { Array($0) }
    }
}
