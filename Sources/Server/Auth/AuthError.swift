/// Why a request's credentials were refused (401) or its actor may not do what it asks (403).
package struct AuthError: Error, Sendable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case missingToken = "TOKEN_MISSING"
            case invalidToken = "TOKEN_INVALID"
            case expiredToken = "TOKEN_EXPIRED"
            case wrongAudience = "TOKEN_WRONG_AUDIENCE"
            case actorMismatch = "ACTOR_MISMATCH"
            case forbidden = "FORBIDDEN"
            case invalidKey = "INVALID_TOKEN_KEY"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// No `Authorization: Bearer …` header.
        package static let missingToken = Code(.missingToken)
        /// Malformed, forged (bad signature), unknown key id, or an unknown subject.
        package static let invalidToken = Code(.invalidToken)
        /// Past its `exp`.
        package static let expiredToken = Code(.expiredToken)
        /// Issued for another audience.
        package static let wrongAudience = Code(.wrongAudience)
        /// The body names an actor other than the token's subject.
        package static let actorMismatch = Code(.actorMismatch)
        /// The token's subject may not do this.
        package static let forbidden = Code(.forbidden)
        /// A key given to the server or `gigctl tokens` is malformed.
        package static let invalidKey = Code(.invalidKey)
        /// The stable machine code, e.g. `TOKEN_EXPIRED`.
        package var rawValue: String { base.rawValue }
        package var description: String { base.rawValue }
        /// 401 for the credential problems, 403 for the rest.
        package var isAuthentication: Bool {
            self == .missingToken || self == .invalidToken || self == .expiredToken || self == .wrongAudience
        }
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code): \(message)" }
}
