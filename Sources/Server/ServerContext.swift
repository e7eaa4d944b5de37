import Foundation
import Hummingbird

/// Per-request state: the request id and, once the bearer token is checked, its principal.
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `X-Request-Id` (a UUID, the client's if it sent one); the correlation id of the events
    /// the request appends.
    public var requestID: String
    public var correlationID: UUID
    /// Set by ``AuthMiddleware`` on every `/v1` route.
    public var principal: Principal?
    /// Body cap, enforced by ``CommandsController`` on collection.
    public var bodyLimit: Int = 64 * 1024

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        correlationID = UUID()
        requestID = correlationID.uuidString.lowercased()
        principal = nil
    }

    public var maxUploadSize: Int { bodyLimit }
}
