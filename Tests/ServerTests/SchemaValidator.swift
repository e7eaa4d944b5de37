import EventStore
import Foundation

/// The part of JSON Schema (2020-12, as OpenAPI 3.1 uses it) the document uses: `$ref`, `type`,
/// `required`, `properties`, `additionalProperties`, `items`, `enum`, `const`, `oneOf`, `anyOf`,
/// `minimum`, `maximum`, `format: uuid / date-time`. Enough to check every body the server sends
/// against the committed document.
struct SchemaValidator {
    let document: JSONValue

    /// Problems found in `value` against `schema` (empty: valid).
    func errors(_ value: JSONValue, _ schema: JSONValue, at path: String = "$") -> [String] {
        if case .string(let reference)? = schema["$ref"] { return errors(value, resolve(reference), at: path) }
        var found: [String] = []
        if let type = schema["type"]?.stringValue, !Self.matches(value, type) {
            return ["\(path): expected \(type), got \(value)"]
        }
        if case .array(let types)? = schema["type"],
            !types.contains(where: { Self.matches(value, $0.stringValue ?? "") })
        {
            return ["\(path): expected one of \(types), got \(value)"]
        }
        if let constant = schema["const"], constant != value { found.append("\(path): expected \(constant)") }
        if case .array(let choices)? = schema["enum"], !choices.contains(value) { found.append("\(path): not in enum") }
        if case .number(let number) = value {
            if case .number(let minimum)? = schema["minimum"], number < minimum {
                found.append("\(path): below minimum")
            }
            if case .number(let maximum)? = schema["maximum"], number > maximum {
                found.append("\(path): above maximum")
            }
        }
        if case .string(let text) = value, let format = schema["format"]?.stringValue {
            if format == "uuid" && UUID(uuidString: text) == nil { found.append("\(path): not a uuid") }
        }
        if case .object(let members) = value {
            if case .array(let required)? = schema["required"] {
                for case .string(let key) in required where members[key] == nil {
                    found.append("\(path): missing \(key)")
                }
            }
            var properties: [String: JSONValue] = [:]
            if case .object(let declared)? = schema["properties"] { properties = declared }
            for (key, member) in members {
                if let property = properties[key] {
                    found += errors(member, property, at: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] {
                    if additional == .bool(false) {
                        found.append("\(path): undocumented member \(key)")
                    } else if case .object = additional {
                        found += errors(member, additional, at: "\(path).\(key)")
                    }
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() { found += errors(item, itemSchema, at: "\(path)[\(index)]") }
        }
        if case .array(let options)? = schema["oneOf"] {
            let passing = options.filter { errors(value, $0, at: path).isEmpty }.count
            if passing != 1 { found.append("\(path): matches \(passing) of oneOf") }
        }
        if case .array(let options)? = schema["anyOf"],
            !options.contains(where: { errors(value, $0, at: path).isEmpty })
        {
            found.append("\(path): matches none of anyOf")
        }
        return found
    }

    func resolve(_ reference: String) -> JSONValue {
        var node = document
        for part in reference.dropFirst(2).split(separator: "/") { node = node[String(part)] ?? .null }
        if case .string(let next)? = node["$ref"] { return resolve(next) }
        return node
    }

    static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
            ("number", .number):
            return true
        case ("integer", .number(let number)): return number.rounded() == number
        default: return false
        }
    }
}
