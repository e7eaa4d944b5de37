import Foundation
import HTTPTypes
import Hummingbird

/// An error on the wire: RFC 9457 problem details (`application/problem+json`) with a stable
/// machine `code`.
///
/// ```json
/// {"type": "urn:gigledger:problem:GIG_NOT_OPEN", "title": "Unprocessable Content", "status": 422,
///  "code": "GIG_NOT_OPEN", "detail": "Gig … is awarded: …", "requestId": "…"}
/// ```
///
/// `field` names the request field at fault (400), `checkpoint` the position a read reflects
/// (503 from `minPosition`). ``ProblemMapping`` decides which library error becomes which problem.
package struct Problem: Error, Sendable, HTTPResponseError, Equatable {
    /// The JSON body.
    package struct Body: Codable, Sendable, Equatable {
        package var type: String
        package var title: String
        package var status: Int
        package var code: String
        package var detail: String
        package var field: String?
        package var checkpoint: Int64?
        package var requestId: String?
    }

    package let status: HTTPResponse.Status
    package var body: Body
    /// Seconds to wait before retrying (503), sent as `Retry-After`.
    package var retryAfter: Int?

    package init(
        _ status: HTTPResponse.Status, code: String, detail: String, field: String? = nil, checkpoint: Int64? = nil,
        retryAfter: Int? = nil
    ) {
        self.status = status
        self.body = Body(
            type: "urn:gigledger:problem:\(code)", title: status.reasonPhrase, status: status.code, code: code,
            detail: detail, field: field, checkpoint: checkpoint, requestId: nil)
        self.retryAfter = retryAfter
    }

    package var code: String { body.code }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        response(requestID: (context as? ServerContext)?.requestID)
    }

    /// The response carrying this problem.
    package func response(requestID: String?) -> Response {
        var body = self.body
        body.requestId = requestID
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(body)) ?? Data(#"{"code":"INTERNAL_ERROR","status":500}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        if status == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="gigledger""# }
        if let requestID { headers[.requestID] = requestID }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`: given by the client (a UUID) or drawn by the server; echoed on every response.
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// The projector checkpoint (log position) a read reflects.
    static let checkpoint = HTTPField.Name("GigLedger-Checkpoint")!
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
