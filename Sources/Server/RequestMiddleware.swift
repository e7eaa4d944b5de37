import Foundation
import Hummingbird
import Logging
import Synchronization

/// Outermost middleware: gives the request its id, sheds load over the concurrency cap with a
/// quick 503, turns every error into a problem response, logs and measures the request.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    let metrics: ServerMetrics
    let gate: ConcurrencyGate
    let bodyLimit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let given = request.headers[.requestID], let id = UUID(uuidString: given) {
            context.correlationID = id
            context.requestID = id.uuidString.lowercased()
        }
        context.bodyLimit = bodyLimit
        context.logger[metadataKey: "request.id"] = .string(context.requestID)
        let start = ContinuousClock.now
        var response: Response
        if gate.enter() {
            defer { gate.leave() }
            do {
                response = try await next(request, context)
            } catch {
                let problem = ProblemMapping.problem(for: error)
                if problem.status.code >= 500 && problem.status != .serviceUnavailable {
                    context.logger.error(
                        "request failed",
                        metadata: [
                            "error": "\(error)", "http.path": "\(request.uri.path)", "problem.code": "\(problem.code)",
                        ])
                }
                response = problem.response(requestID: context.requestID)
            }
        } else {
            metrics.shed()
            response = Problem(
                .serviceUnavailable, code: "OVERLOADED",
                detail: "The server is handling as many requests as it may; retry shortly.", retryAfter: 1
            ).response(requestID: context.requestID)
        }
        response.headers[.requestID] = context.requestID
        let route = context.endpointPath ?? "unmatched"
        metrics.request(
            route: route, method: request.method.rawValue, status: response.status.code,
            duration: start.duration(to: .now))
        context.logger.debug(
            "request",
            metadata: [
                "http.method": "\(request.method)", "http.route": "\(route)", "http.status": "\(response.status.code)",
            ])
        return response
    }
}

/// Counts requests in flight and refuses one over the cap.
final class ConcurrencyGate: Sendable {
    let limit: Int
    private let inFlight = Atomic<Int>(0)

    init(limit: Int) { self.limit = max(1, limit) }

    func enter() -> Bool {
        let now = inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        if now > limit {
            inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            return false
        }
        return true
    }

    func leave() { inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing) }

    var current: Int { inFlight.load(ordering: .acquiring) }
}

/// Checks the bearer token of every request it guards and records its principal.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let authority: TokenAuthority

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization] else {
            throw AuthError(.missingToken, "Send Authorization: Bearer <token>; `gigctl tokens issue` makes one.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw AuthError(.missingToken, "The Authorization header must be Bearer <token>.")
        }
        var context = context
        let principal = try await authority.verify(String(parts[1]).trimmingCharacters(in: .whitespaces))
        context.principal = principal
        context.logger[metadataKey: "auth.subject"] = .string(principal.subject)
        return try await next(request, context)
    }
}
