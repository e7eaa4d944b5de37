import EventStore
import GigLedger
import Hummingbird
import Marketplace
import PQ

/// The one place where errors become HTTP problems: library errors through their
/// ``ErrorClassification`` (category → status, code and field as classified) and the server's own
/// (``AuthError``, ``Problem``).
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
package enum ProblemMapping {
    /// Seconds a client should wait after a 503.
    package static let retryAfterSeconds = 2

    /// The problem for any error a handler let through: the server's own problems and
    /// ``AuthError`` as they are, Hummingbird's `HTTPError` by its status, and every library
    /// error by its ``ErrorClassification`` (the one classification the CLI's exit codes use too).
    package static func problem(for error: any Error) -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let error as AuthError:
            return Problem(
                error.code.isAuthentication ? .unauthorized : .forbidden, code: error.code.rawValue,
                detail: error.message)
        case let error as HTTPError:
            return Problem(error.status, code: code(for: error.status), detail: error.body ?? error.status.reasonPhrase)
        default:
            return problem(for: ErrorClassification(error))
        }
    }

    package static func problem(for classified: ErrorClassification) -> Problem {
        switch classified.category {
        case .malformed:
            return Problem(
                .badRequest, code: classified.code, detail: classified.message, field: classified.fields["field"]?.text)
        case .rejected: return Problem(.unprocessableContent, code: classified.code, detail: classified.message)
        case .notFound: return Problem(.notFound, code: classified.code, detail: classified.message)
        case .forbidden: return Problem(.forbidden, code: classified.code, detail: classified.message)
        case .conflict: return Problem(.conflict, code: classified.code, detail: classified.message)
        case .unavailable, .schemaMissing:
            return Problem(
                .serviceUnavailable,
                code: classified.category == .schemaMissing ? classified.code : "DATABASE_UNAVAILABLE",
                detail: "The database is unavailable; nothing was done. Retry later with the same Idempotency-Key.",
                retryAfter: retryAfterSeconds)
        case .internalError:
            return Problem(
                .internalServerError, code: classified.code,
                detail: "The server failed (\(classified.code)); the request id identifies the log lines.")
        }
    }

    /// A query or header parameter that is malformed.
    package static func invalidParameter(_ name: String, _ detail: String) -> Problem {
        Problem(.badRequest, code: "INVALID_PARAMETER", detail: detail, field: name)
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

extension JSONValue {
    fileprivate var text: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
