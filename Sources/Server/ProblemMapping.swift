import EventStore
import GigLedger
import Hummingbird
import Marketplace
import PQ

/// The one place where errors become HTTP problems: library errors (``CommandError`` with the
/// domain's rule codes, store and pool errors) and the server's own (``AuthError``).
///
/// | status | when | `code` |
/// |---|---|---|
/// | 400 | malformed command or parameter (`field` names it) | `INVALID_COMMAND`, `INVALID_INPUT`, `INVALID_PARAMETER` |
/// | 401 | no token, a forged, expired or wrong-audience one | `TOKEN_*` |
/// | 403 | the token's actor may not do it | `ACTOR_MISMATCH`, `FORBIDDEN`, `NOT_ALLOWED`, `NOT_GIG_OWNER`, … |
/// | 404 | the gig, bid, contract, freelancer or client does not exist | `GIG_NOT_FOUND`, … |
/// | 409 | concurrent writers won every retry | `CONCURRENCY_CONFLICT` |
/// | 422 | a marketplace rule refused the command | the rule's code, e.g. `GIG_NOT_OPEN` |
/// | 503 | the database is unreachable or not migrated (`Retry-After`) | `DATABASE_UNAVAILABLE` |
/// | 500 | a stored event cannot be read, or a bug | `CORRUPT_STREAM`, `INTERNAL_ERROR` |
public enum ProblemMapping {
    /// Seconds a client should wait after a 503.
    public static let retryAfterSeconds = 2

    /// The domain's codes that mean "this actor may not" (403) and "no such thing" (404);
    /// every other rule code is a 422.
    static let forbiddenCodes: Set<DomainError.Code> = [
        .notAllowed, .notGigOwner, .notContractFreelancer, .notContractClient,
    ]
    static let notFoundCodes: Set<DomainError.Code> = [
        .freelancerNotFound, .clientNotFound, .gigNotFound, .bidNotFound, .contractNotFound,
    ]

    /// The problem for any error a handler let through.
    public static func problem(for error: any Error) -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let error as CommandError: return problem(for: error)
        case let error as AuthError: return problem(for: error)
        case let error as EventStoreError: return problem(for: CommandError.fromStore(error))
        case let error as PQError where error.code == .poolTimeout || error.code == .poolClosed:
            return problem(for: CommandError(.unavailable, error.message, cause: error))
        case let error as PQError: return problem(for: CommandError.fromStore(EventStore.mapReadError(error)))
        case let error as HTTPError:
            return Problem(error.status, code: code(for: error.status), detail: error.body ?? error.status.reasonPhrase)
        default:
            return Problem(
                .internalServerError, code: "INTERNAL_ERROR",
                detail: "The server failed; the request id identifies the log lines.")
        }
    }

    public static func problem(for error: CommandError) -> Problem {
        if let domain = error.domain, error.code == .rejected {
            if forbiddenCodes.contains(domain.code) {
                return Problem(.forbidden, code: domain.code.rawValue, detail: error.message)
            }
            if notFoundCodes.contains(domain.code) {
                return Problem(.notFound, code: domain.code.rawValue, detail: error.message)
            }
            return Problem(.unprocessableContent, code: domain.code.rawValue, detail: error.message)
        }
        switch error.code {
        case .invalidCommand:
            return Problem(
                .badRequest, code: error.stableCode, detail: error.message, field: field(named: error.message))
        case .rejected:
            return Problem(.unprocessableContent, code: error.stableCode, detail: error.message)
        case .conflict:
            return Problem(.conflict, code: error.stableCode, detail: error.message)
        case .unavailable:
            return Problem(
                .serviceUnavailable, code: "DATABASE_UNAVAILABLE",
                detail: "The database is unavailable; nothing was done. Retry later with the same Idempotency-Key.",
                retryAfter: retryAfterSeconds)
        default:
            return Problem(
                .internalServerError, code: error.stableCode,
                detail: "The server failed: \(error.stableCode). The request id identifies the log lines.")
        }
    }

    public static func problem(for error: AuthError) -> Problem {
        Problem(
            error.code.isAuthentication ? .unauthorized : .forbidden, code: error.code.rawValue, detail: error.message)
    }

    /// A query or header parameter that is malformed.
    public static func invalidParameter(_ name: String, _ detail: String) -> Problem {
        Problem(.badRequest, code: "INVALID_PARAMETER", detail: detail, field: name)
    }

    /// The field a command's input error names (`Field "amount.minorUnits" must …`).
    // TODO(errors): take the field from the library's error classification once it lands on main.
    static func field(named message: String) -> String? {
        guard let start = message.range(of: "Field \"") else { return nil }
        let rest = message[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "NOT_FOUND"
        case .methodNotAllowed: "METHOD_NOT_ALLOWED"
        case .contentTooLarge: "BODY_TOO_LARGE"
        case .unsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE"
        case .badRequest: "BAD_REQUEST"
        case .serviceUnavailable: "OVERLOADED"
        default: status.code >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST"
        }
    }
}

extension CommandError {
    /// A store error met outside command handling (reads), classified as command handling does.
    static func fromStore(_ error: EventStoreError) -> CommandError {
        if error.isConnectionProblem || error.code == .notMigrated {
            return CommandError(.unavailable, error.message, cause: error)
        }
        return CommandError(.internalError, error.description, cause: error)
    }
}
