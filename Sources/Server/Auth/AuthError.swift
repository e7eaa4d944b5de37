/// Why a request's credentials were refused (401) or its actor may not do what it asks (403).
public struct AuthError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
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
        public static let missingToken = Code(.missingToken)
        /// Malformed, forged (bad signature), unknown key id, or an unknown subject.
        public static let invalidToken = Code(.invalidToken)
        /// Past its `exp`.
        public static let expiredToken = Code(.expiredToken)
        /// Issued for another audience.
        public static let wrongAudience = Code(.wrongAudience)
        /// The body names an actor other than the token's subject.
        public static let actorMismatch = Code(.actorMismatch)
        /// The token's subject may not do this.
        public static let forbidden = Code(.forbidden)
        /// A key given to the server or `gigctl tokens` is malformed.
        public static let invalidKey = Code(.invalidKey)
        /// The stable machine code, e.g. `TOKEN_EXPIRED`.
        public var rawValue: String { base.rawValue }
        public var description: String { base.rawValue }
        /// 401 for the credential problems, 403 for the rest.
        public var isAuthentication: Bool {
            self == .missingToken || self == .invalidToken || self == .expiredToken || self == .wrongAudience
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
