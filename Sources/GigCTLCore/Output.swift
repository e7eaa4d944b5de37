import Foundation

/// Writes command output: JSON for machines (`--json`), aligned text for people.
enum Output {
    /// Where error text goes: stderr; a test captures it by binding another sink for its task.
    @TaskLocal static var standardError: @Sendable (Data) -> Void = { FileHandle.standardError.write($0) }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static func line(_ text: String = "") {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func errorNoNewline(_ text: String) {
        standardError(Data(text.utf8))
    }

    static func error(_ text: String) {
        standardError(Data((text + "\n").utf8))
    }

    /// A table with a header row; columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        line(render(header))
        line(render(widths.map { String(repeating: "-", count: $0) }))
        for row in rows { line(render(row)) }
    }

    static func timestamp(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// Runs a subcommand body; a failure is reported once, through ``CLIError/reporting(_:)``: its
/// message on stderr (`error: …`), or under `--json` one JSON object on stderr (`code`, `message`,
/// `exitCode` and the rule's fields), and the documented exit code.
func runReportingErrors(json: Bool, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        let reported = CLIError.reporting(error)
        guard let cliError = reported as? CLIError else { throw reported }
        if json {
            Output.standardError(cliError.jsonObject() + Data("\n".utf8))
        } else {
            Output.error("error: \(cliError.text)")
        }
        throw cliError.exitCode()
    }
}
