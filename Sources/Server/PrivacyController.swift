import Foundation
import GigLedger
import Hummingbird
import Marketplace

/// `POST /v1/admin/erasures`: forget a freelancer or client (GDPR Art. 17), as `gigctl privacy
/// forget` does: `PersonalDataErased` appended and the subject's data key deleted in one
/// transaction. Admin tokens only. 201 the first time, 200 when the subject was forgotten
/// before (nothing changes).
struct PrivacyController: Sendable {
    /// Forgets through the command handler, so its cached states go with the key.
    let service: MarketplaceService

    /// The request body.
    struct Body: Decodable {
        /// `freelancer:<uuid>` or `client:<uuid>`.
        let subject: String
        /// A code such as `gdpr-art17`, never free text.
        let reason: String
    }

    func addRoutes(to group: RouterGroup<ServerContext>) {
        group.post("admin/erasures") { request, context in try await self.forget(request, context) }
    }

    func forget(_ request: Hummingbird.Request, _ context: ServerContext) async throws -> Response {
        guard let principal = context.principal else { throw AuthError(.missingToken, "No bearer token.") }
        guard case .admin(let name) = principal.kind else {
            throw AuthError(.forbidden, "Only an admin token may forget a data subject.")
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: context.bodyLimit) } catch {
            throw Problem(
                .contentTooLarge, code: "BODY_TOO_LARGE",
                detail: "The body is larger than the server accepts; nothing was done.")
        }
        let body: Body
        do { body = try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView)) } catch {
            throw Problem(
                .badRequest, code: "INVALID_INPUT",
                detail: "Send {\"subject\": \"freelancer:<uuid>\" | \"client:<uuid>\", \"reason\": \"gdpr-art17\"}.")
        }
        let subject: DataSubject
        do { subject = try DataSubject(parsing: body.subject) } catch {
            throw Problem(.badRequest, code: "INVALID_INPUT", detail: error.message, field: "subject")
        }
        let outcome = try await service.forget(subject, reason: body.reason, actor: .admin(name))
        return try JSONBody.response(outcome, status: outcome.erased ? .created : .ok)
    }
}
