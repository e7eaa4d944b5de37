import ArgumentParser
import EventStore
import Foundation
import GigLedger
import PQ
import Projections

/// An error gigctl reports: the documented exit code, a stable code, the message for the operator
/// and the structured fields of the rule (printed as one JSON object under `--json`).
package struct CLIError: Error, CustomStringConvertible {
    package enum Exit: Int32, Sendable {
        case problemFound = 1
        case usage = 64
        case rejected = 65
        case unavailable = 69
        case internalError = 70
        case conflict = 75
        case configuration = 78

        /// The exit code of each ``ErrorCategory`` (README's table).
        init(_ category: ErrorCategory) {
            switch category {
            case .malformed: self = .usage
            case .rejected, .notFound, .forbidden: self = .rejected
            case .conflict: self = .conflict
            case .unavailable: self = .unavailable
            case .schemaMissing: self = .configuration
            case .internalError: self = .internalError
            }
        }

        /// The code of gigctl's own errors, which no library classified.
        var code: String {
            switch self {
            case .problemFound: "PROBLEM_FOUND"
            case .usage: "USAGE"
            case .rejected: "REJECTED"
            case .unavailable: "DATABASE_UNAVAILABLE"
            case .internalError: "INTERNAL_ERROR"
            case .conflict: "CONFLICT"
            case .configuration: "CONFIGURATION"
            }
        }
    }
    package let exit: Exit
    /// The stable machine code (`GIG_NOT_OPEN`, `NOT_MIGRATED`, `USAGE`, …).
    package let code: String
    package let message: String
    /// The rule's fields (see `ErrorClassification.fields`).
    package let fields: [String: JSONValue]
    /// What text mode prints after `error: `.
    let text: String

    package init(_ exit: Exit, _ message: String) {
        self.init(exit, code: exit.code, message: message, fields: [:], text: message)
    }

    init(_ exit: Exit, code: String, message: String, fields: [String: JSONValue], text: String) {
        self.exit = exit
        self.code = code
        self.message = message
        self.fields = fields
        self.text = text
    }

    package var description: String { text }

    /// The one place that maps an error to what gigctl reports: a library error by its
    /// `ErrorClassification` (category → exit code), a stopped projector as exit 1 (the command
    /// ran and found a problem). ArgumentParser's own errors (validation, help, explicit exit
    /// codes) are returned unchanged, for it to report.
    static func reporting(_ error: any Error) -> any Error {
        switch error {
        case let error as CLIError:
            return error
        case is ValidationError, is ExitCode, is CleanExit:
            return error
        default:
            let classified = ErrorClassification(error)
            let exit: Exit = error is ProjectionFailure ? .problemFound : Exit(classified.category)
            // Commands' refusals read `CODE: message`, as they always have; other errors their message.
            let text = error is CommandError ? "\(classified.code): \(classified.message)" : classified.message
            return CLIError(
                exit, code: classified.code, message: classified.message, fields: classified.fields, text: text)
        }
    }

    /// The `--json` form: one object with `code`, `message`, `exitCode` and the rule's fields.
    func jsonObject() -> Data {
        var object = fields
        object["code"] = .string(code)
        object["message"] = .string(message)
        object["exitCode"] = .number(Double(exit.rawValue))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(JSONValue.object(object))) ?? Data(#"{"code":"INTERNAL_ERROR"}"#.utf8)
    }
}

extension CLIError {
    /// Turns this into ArgumentParser's exit, after printing the message to stderr.
    func exitCode() -> ExitCode { ExitCode(exit.rawValue) }
}
