import Foundation
import PropertyBased
import Testing

@testable import Marketplace

/// `PersonalData.mapFields` rewrites personal fields by scanning the event's JSON bytes. Checked
/// against the obvious implementation (parse the whole object with JSONSerialization, replace,
/// serialize) on random objects written with random spacing and escapes.
@Suite("Personal fields rewritten in the JSON bytes")
struct PersonalDataRewriteTests {
    /// Draws from a list of random words, cycling (the property's input, so a failure shrinks).
    struct Draws {
        let words: [UInt64]
        var next = 0

        mutating func int(_ bound: Int) -> Int {
            defer { next += 1 }
            return words.isEmpty ? 0 : Int(words[next % words.count] % UInt64(bound))
        }

        mutating func pick<T>(_ options: [T]) -> T { options[int(options.count)] }
    }

    static let texts = [
        "", "plain", "quote \" inside", "back\\slash", "new\nline", "tab\there", "ctrl \u{01}\u{1F}", "snow ☃",
        "emoji 😀", "a/slash", "$enc:v1;client:x;AAAA",
    ]
    static let numbers = ["0", "-12", "9007199254740993", "1.5e3", "3.25", "-0.5E-2"]
    static let keys = ["name", "title", "description", "note", "artifacts", "reason", "text", "rate", "q\"k", "ünï"]

    /// `text` as JSON, sometimes with optional escapes (\/, \u for non-ASCII and letters).
    static func write(_ text: String, _ draws: inout Draws) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += draws.int(2) == 0 ? "\\n" : "\\u000a"
            case "\t": out += "\\t"
            case "/": out += draws.int(2) == 0 ? "/" : "\\/"
            case let s where s.value < 0x20: out += String(format: "\\u%04x", s.value)
            case let s where s.value > 0xFFFF && draws.int(2) == 0:
                for unit in String(s).utf16 { out += String(format: "\\u%04X", unit) }
            case let s where (s.value > 0x7F || s == "a") && draws.int(3) == 0:
                out += String(format: "\\u%04x", s.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func space(_ draws: inout Draws) -> String { draws.pick(["", "", " ", "\n  ", "\t"]) }

    static func value(_ draws: inout Draws, depth: Int) -> String {
        switch draws.int(depth > 1 ? 4 : 6) {
        case 0: return write(draws.pick(texts), &draws)
        case 1: return draws.pick(numbers)
        case 2: return draws.pick(["true", "false", "null"])
        case 3:
            return "[" + (0..<draws.int(3)).map { _ in write(draws.pick(texts), &draws) }.joined(separator: ",") + "]"
        case 4:
            let items = (0..<draws.int(4)).map { _ in space(&draws) + value(&draws, depth: depth + 1) + space(&draws) }
            return "[" + items.joined(separator: ",") + "]"
        default: return object(&draws, depth: depth + 1)
        }
    }

    static func object(_ draws: inout Draws, depth: Int) -> String {
        var keys = Self.keys
        var members: [String] = []
        for _ in 0..<draws.int(6) where !keys.isEmpty {
            let key = keys.remove(at: draws.int(keys.count))
            members.append(
                space(&draws) + write(key, &draws) + space(&draws) + ":" + space(&draws) + value(&draws, depth: depth)
                    + space(&draws))
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// The obvious implementation: the whole object through JSONSerialization.
    static func reference(
        of type: String, in data: Data, _ transform: (String, PersonalData.Field) -> String
    ) throws -> Data? {
        guard let fields = PersonalData.fields[type],
            var object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        var changed = false
        for field in fields {
            if let value = object[field.key] as? String {
                object[field.key] = transform(value, field)
                changed = true
            } else if field.isList, let values = object[field.key] as? [Any] {
                object[field.key] = values.map { ($0 as? String).map { transform($0, field) } ?? $0 }
                changed = true
            }
        }
        return changed ? try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) : nil
    }

    static func transform(_ value: String, _ field: PersonalData.Field) -> String {
        "«\(field.key)» " + String(value.reversed()) + " \"\\\n\u{02}/"
    }

    @Test func theByteScanEqualsParsingTheWholeObject() async {
        let types = ["FreelancerRegistered", "GigPosted", "DeliverySubmitted", "ReviewSubmitted"]
        await propertyCheck(count: 500, input: Gen<UInt64>.value().array(of: 1...80)) { words in
            var draws = Draws(words: words)
            let type = draws.pick(types)
            let text = Self.space(&draws) + Self.object(&draws, depth: 0) + Self.space(&draws)
            let data = Data(text.utf8)
            var seenByScan: [String] = []
            var seenByReference: [String] = []
            let scanned = try? PersonalData.mapFields(of: type, in: data) { value, field in
                seenByScan.append(field.key + "=" + value)
                return Self.transform(value, field)
            }
            let expected = try? Self.reference(of: type, in: data) { value, field in
                seenByReference.append(field.key + "=" + value)
                return Self.transform(value, field)
            }
            #expect(seenByScan.sorted() == seenByReference.sorted(), "\(text)")
            #expect((scanned == nil) == (expected == nil), "\(text)")
            if let scanned, let expected {
                let a = try? JSONSerialization.jsonObject(with: scanned) as? NSDictionary
                let b = try? JSONSerialization.jsonObject(with: expected) as? NSDictionary
                #expect(a != nil && a == b, "\(text) → \(String(decoding: scanned, as: UTF8.self))")
            }
        }
    }

    @Test func malformedDataIsRefusedAndOtherJSONIsLeftAlone() throws {
        for broken in [
            #"{"name":"unterminated"#, #"{"name":"x",}"#, #"{"name" "x"}"#, #"{"name":"\q"}"#, #"{"name":"x"} tail"#,
        ] {
            #expect(throws: PersonalData.MalformedData.self, "\(broken)") {
                try PersonalData.mapFields(of: "FreelancerRegistered", in: Data(broken.utf8)) { $1.key }
            }
        }
        #expect(try PersonalData.mapFields(of: "FreelancerRegistered", in: Data(#"["name"]"#.utf8)) { $1.key } == nil)
        #expect(try PersonalData.mapFields(of: "FreelancerRegistered", in: Data(#"{"rate":1}"#.utf8)) { $1.key } == nil)
    }
}
