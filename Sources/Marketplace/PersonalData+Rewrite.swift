import Foundation

extension PersonalData {
    /// Stored event data that is not one JSON object, or not well-formed JSON where a personal
    /// field was looked for.
    public struct MalformedData: Error, CustomStringConvertible {
        /// The byte offset where reading stopped.
        public let offset: Int
        public let reason: String

        public var description: String { "event data is not a well-formed JSON object at byte \(offset): \(reason)" }
    }

    /// The string values of `fields`' keys at the top level of the JSON object `data`, each
    /// replaced by `transform`'s result; every other byte stays as it was (numbers exact, key
    /// order and spacing kept). `changed` is false when none of the keys is present, or when
    /// `data` is JSON but not an object.
    ///
    /// Sealing and opening run this for every event with personal fields, on the append path
    /// and in folds: a scan of the bytes costs a fraction of parsing the whole object into
    /// Foundation values and serializing it again.
    static func rewriteTopLevelStrings(
        _ data: Data, fields: [Field], _ transform: (_ value: String, _ field: Field) throws -> String
    ) throws -> (data: Data, changed: Bool) {
        let bytes = [UInt8](data)
        var reader = JSONBytes(bytes: bytes)
        var replacements: [(range: Range<Int>, with: [UInt8])] = []
        var found = false
        reader.skipSpace()
        guard reader.peek() == UInt8(ascii: "{") else { return (data, false) }
        reader.index += 1
        reader.skipSpace()
        if reader.peek() == UInt8(ascii: "}") {
            reader.index += 1
        } else {
            while true {
                reader.skipSpace()
                let key = try reader.string()
                reader.skipSpace()
                try reader.expect(UInt8(ascii: ":"))
                reader.skipSpace()
                let field = fields.first { $0.key == key.value }
                if let field, reader.peek() == UInt8(ascii: "\"") {
                    found = true
                    let value = try reader.string()
                    replacements.append((value.range, Self.jsonString(try transform(value.value, field))))
                } else if let field, field.isList, reader.peek() == UInt8(ascii: "[") {
                    found = true
                    reader.index += 1
                    reader.skipSpace()
                    if reader.peek() == UInt8(ascii: "]") {
                        reader.index += 1
                    } else {
                        while true {
                            reader.skipSpace()
                            if reader.peek() == UInt8(ascii: "\"") {
                                let item = try reader.string()
                                replacements.append((item.range, Self.jsonString(try transform(item.value, field))))
                            } else {
                                try reader.skipValue()
                            }
                            reader.skipSpace()
                            if try reader.endOfList(closing: UInt8(ascii: "]")) { break }
                        }
                    }
                } else {
                    try reader.skipValue()
                }
                reader.skipSpace()
                if try reader.endOfList(closing: UInt8(ascii: "}")) { break }
            }
        }
        reader.skipSpace()
        guard reader.index == bytes.count else { throw reader.malformed("text after the object") }
        guard found, !replacements.isEmpty else { return (data, found) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + replacements.reduce(0) { $0 + $1.with.count })
        var copied = 0
        for replacement in replacements {
            output.append(contentsOf: bytes[copied..<replacement.range.lowerBound])
            output.append(contentsOf: replacement.with)
            copied = replacement.range.upperBound
        }
        output.append(contentsOf: bytes[copied...])
        return (Data(output), true)
    }
}

extension PersonalData {
    fileprivate static func jsonString(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        JSONText.appendString(text, to: &out)
        return out
    }
}

/// A forward reader over JSON text: just enough to find top-level keys, decode and skip values.
private struct JSONBytes {
    let bytes: [UInt8]
    var index = 0

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    func malformed(_ reason: String) -> PersonalData.MalformedData {
        PersonalData.MalformedData(offset: index, reason: reason)
    }

    mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    mutating func expect(_ byte: UInt8) throws(PersonalData.MalformedData) {
        guard peek() == byte else { throw malformed("expected '\(Character(UnicodeScalar(byte)))'") }
        index += 1
    }

    /// After a member or an item: true at the closing bracket (consumed), false after a comma.
    mutating func endOfList(closing: UInt8) throws(PersonalData.MalformedData) -> Bool {
        switch peek() {
        case UInt8(ascii: ","):
            index += 1
            return false
        case closing:
            index += 1
            return true
        default: throw malformed("expected ',' or '\(Character(UnicodeScalar(closing)))'")
        }
    }

    /// A string at `index` (its opening quote): the decoded text and the range of its JSON form.
    mutating func string() throws(PersonalData.MalformedData) -> (value: String, range: Range<Int>) {
        let start = index
        try expect(UInt8(ascii: "\""))
        var decoded: [UInt8]? = nil  // made at the first escape; until then the text is the bytes
        var runStart = index
        while true {
            guard let byte = peek() else { throw malformed("unterminated string") }
            if byte == UInt8(ascii: "\"") {
                let text: String
                if var decoded {
                    decoded.append(contentsOf: bytes[runStart..<index])
                    text = String(decoding: decoded, as: UTF8.self)
                } else {
                    text = String(decoding: bytes[runStart..<index], as: UTF8.self)
                }
                index += 1
                return (text, start..<index)
            }
            if byte < 0x20 { throw malformed("a control character inside a string") }
            guard byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            var out = decoded ?? []
            out.append(contentsOf: bytes[runStart..<index])
            index += 1
            guard let escape = peek() else { throw malformed("unterminated escape") }
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate: a low one must follow as its own escape.
                    guard peek() == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
                    else { throw malformed("a lone surrogate escape") }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw malformed("a lone surrogate escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw malformed("a lone surrogate escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw malformed("an invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw malformed("an invalid escape")
            }
            decoded = out
            runStart = index
        }
    }

    private mutating func hex4() throws(PersonalData.MalformedData) -> UInt32 {
        guard index + 4 <= bytes.count else { throw malformed("a short \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw malformed("a bad hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    /// Moves past one value of any kind (checked only as far as finding its end needs).
    mutating func skipValue() throws(PersonalData.MalformedData) {
        switch peek() {
        case UInt8(ascii: "\""):
            _ = try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let closing = peek() == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipSpace()
            if peek() == closing {
                index += 1
                return
            }
            while true {
                skipSpace()
                if closing == UInt8(ascii: "}") {
                    _ = try string()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    skipSpace()
                }
                try skipValue()
                skipSpace()
                if try endOfList(closing: closing) { return }
            }
        case nil:
            throw malformed("a value was expected")
        default:
            // A number, true, false or null: up to the next delimiter.
            let start = index
            while let byte = peek(),
                !(byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
                    || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09)
            {
                index += 1
            }
            guard index > start else { throw malformed("a value was expected") }
        }
    }
}
