import EventStore
import Foundation
import HummingbirdTesting
import Server
import Testing

/// Checks responses against the committed OpenAPI document: the route, status and content type
/// must be documented, and a JSON body must validate against the schema documented for them.
/// Records what it checked (`METHOD /path/{param} status`), so a test can demand that each
/// status of a route was seen.
struct ResponseConformance {
    static let document: JSONValue = {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(OpenAPIDocument.data))) ?? .null
    }()

    let validator = SchemaValidator(document: Self.document)
    private(set) var checked: Set<String> = []

    mutating func check(_ response: TestResponse, _ method: String, _ path: String) {
        let status = String(response.status.code)
        checked.insert("\(method) \(path) \(status)")
        guard let operation = Self.document["paths"]?[path]?[method.lowercased()] else {
            Issue.record("\(method) \(path) is not documented")
            return
        }
        var documented = operation["responses"]?[status]
        if case .string(let reference)? = documented?["$ref"] { documented = validator.resolve(reference) }
        guard let documented else {
            Issue.record("\(method) \(path) answered \(status), which is not documented")
            return
        }
        let contentType = (response.headers[.contentType] ?? "").split(separator: ";").first.map(String.init) ?? ""
        guard case .object(let contents)? = documented["content"] else {
            #expect(response.body.readableBytes == 0, "\(method) \(path) \(status) has an undocumented body")
            return
        }
        guard let schema = contents[contentType]?["schema"] else {
            Issue.record("\(method) \(path) \(status): content type \(contentType) is not documented")
            return
        }
        if contentType == "application/x-ndjson" {
            // One item per line, each valid against the item schema the document names.
            guard case .string(let reference)? = contents[contentType]?["x-item-schema"]?["$ref"] else {
                Issue.record("\(method) \(path) \(status): NDJSON without an x-item-schema")
                return
            }
            let item = validator.resolve(reference)
            for line in String(buffer: response.body).split(separator: "\n") {
                guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else {
                    Issue.record("\(method) \(path) \(status): a line is not JSON: \(line)")
                    continue
                }
                let problems = validator.errors(value, item)
                #expect(problems.isEmpty, "\(method) \(path) \(status): \(problems)")
            }
        } else if contentType.hasSuffix("json") {
            guard let body = try? JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
            else {
                Issue.record("\(method) \(path) \(status): body is not JSON")
                return
            }
            let problems = validator.errors(body, schema)
            #expect(problems.isEmpty, "\(method) \(path) \(status): \(problems)")
        }
    }
}
