import Foundation
import Hummingbird

/// Per-request state: the request id and, once the bearer token is checked, its principal.
package struct ServerContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// `X-Request-Id` (a UUID, the client's if it sent one); the correlation id of the events
    /// the request appends.
    package var requestID: String
    package var correlationID: UUID
    /// Set by ``AuthMiddleware`` on every `/v1` route.
    package var principal: Principal?
    /// Body cap, enforced by ``CommandsController`` on collection.
    package var bodyLimit: Int = 64 * 1024

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        correlationID = UUID()
        requestID = correlationID.uuidString.lowercased()
        principal = nil
    }

    package var maxUploadSize: Int { bodyLimit }
}
