import ArgumentParser
import EventStore
import PQ
import Projections

/// An error gigctl reports: the message for the operator and the documented exit code.
public struct CLIError: Error, CustomStringConvertible {
    public enum Exit: Int32, Sendable {
        case problemFound = 1
        case usage = 64
        case rejected = 65
        case unavailable = 69
        case internalError = 70
        case conflict = 75
        case configuration = 78
    }
    public let exit: Exit
    public let message: String

    public init(_ exit: Exit, _ message: String) {
        self.exit = exit
        self.message = message
    }

    public var description: String { message }

    /// Maps library errors to exit codes once.
    public static func wrap(_ error: any Error) -> any Error {
        switch error {
        case let error as CLIError:
            return error
        case let error as ProjectionAdminError:
            return CLIError(.usage, error.description)
        case let error as ReadQueryError:
            return CLIError(.usage, error.description)
        case let error as ProjectionFailure:
            return CLIError(.problemFound, error.description)
        case let error as PQError where error.isConnectionLost || error.code == .poolTimeout:
            return CLIError(.unavailable, error.description)
        case let error as PQError:
            if error.sqlState == .undefinedTable || error.sqlState?.rawValue == "3F000" {
                return CLIError(.configuration, "The database has no GigLedger schema yet: run `gigctl migrate`.")
            }
            return CLIError(.internalError, error.description)
        case let error as EventStoreError:
            if error.isConnectionProblem { return CLIError(.unavailable, error.message) }
            switch error.code {
            case .notMigrated, .migrationEdited, .migrationFailed: return CLIError(.configuration, error.message)
            case .wrongExpectedVersion: return CLIError(.conflict, error.message)
            case .invalidAppend, .invalidStreamName: return CLIError(.usage, error.message)
            default: return CLIError(.internalError, error.description)
            }
        default:
            return error
        }
    }
}

extension CLIError {
    /// Turns this into ArgumentParser's exit, after printing the message to stderr.
    func exitCode() -> ExitCode { ExitCode(exit.rawValue) }
}
