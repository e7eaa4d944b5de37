import Foundation
import JWTKit

/// Signs and verifies GigLedger access tokens (JWT, HS256 or EdDSA, the key named by `kid`).
///
/// A token carries `sub` (the ``Principal``'s subject), `aud` (must include the server's
/// audience, `gigledger` by default), `exp`, `iat` and, for services, `scope` (space-separated).
package struct TokenAuthority: Sendable {
    /// The claims of an access token.
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var scope: String?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    package let audience: String
    package let keys: [TokenKey]
    let collection: JWTKeyCollection

    /// `keys` verify tokens; the first that can sign issues them. Throws if `keys` is empty or
    /// two keys share a `kid`.
    package init(keys: [TokenKey], audience: String = "gigledger") async throws(AuthError) {
        guard !keys.isEmpty else {
            throw AuthError(
                .invalidKey,
                "No token key is configured: pass --token-key (or set GIGLEDGER_TOKEN_KEYS); `gigctl tokens keygen` makes one."
            )
        }
        guard Set(keys.map(\.kid)).count == keys.count else {
            throw AuthError(.invalidKey, "Two token keys share a kid; every key needs its own.")
        }
        let collection = JWTKeyCollection()
        for key in keys {
            do {
                switch key.material {
                case .hs256(let secret):
                    await collection.add(
                        hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: key.kid))
                case .ed25519Private(let d):
                    await collection.add(
                        eddsa: try EdDSA.PrivateKey(d: d, curve: .ed25519), kid: JWKIdentifier(string: key.kid))
                case .ed25519Public(let x):
                    await collection.add(
                        eddsa: try EdDSA.PublicKey(x: x, curve: .ed25519), kid: JWKIdentifier(string: key.kid))
                }
            } catch {
                throw AuthError(.invalidKey, "Key \(key.kid) cannot be used: \(error).")
            }
        }
        self.keys = keys
        self.audience = audience
        self.collection = collection
    }

    /// A token for `principal`, valid for `ttl`, signed with `kid` (default: the first key that signs).
    package func issue(
        for principal: Principal, ttl: Duration, kid: String? = nil, audience: String? = nil, now: Date = Date()
    ) async throws(AuthError) -> String {
        guard let key = kid.map({ kid in keys.first { $0.kid == kid } }) ?? keys.first(where: \.canSign) else {
            throw AuthError(.invalidKey, "No configured key \(kid.map { "named \($0) " } ?? "")can sign tokens.")
        }
        guard key.canSign else { throw AuthError(.invalidKey, "Key \(key.kid) only verifies; it cannot sign.") }
        let seconds = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
        let claims = Claims(
            sub: SubjectClaim(value: principal.subject), aud: AudienceClaim(value: [audience ?? self.audience]),
            exp: ExpirationClaim(value: now.addingTimeInterval(seconds)), iat: IssuedAtClaim(value: now),
            scope: principal.scopes.isEmpty ? nil : principal.scopes.sorted().joined(separator: " "))
        do {
            return try await collection.sign(claims, kid: JWKIdentifier(string: key.kid))
        } catch {
            throw AuthError(.invalidKey, "Signing with key \(key.kid) failed: \(error).")
        }
    }

    /// The principal of a valid token; a 401 ``AuthError`` otherwise.
    package func verify(_ token: String, now: Date = Date()) async throws(AuthError) -> Principal {
        let claims: Claims
        do {
            claims = try await collection.verify(token, as: Claims.self)
        } catch {
            throw AuthError(
                .invalidToken,
                "The bearer token is not one this server accepts (malformed, unknown key id, or a bad signature).")
        }
        guard claims.aud.value.contains(audience) else {
            throw AuthError(.wrongAudience, "The bearer token is for another audience; this server is \(audience).")
        }
        guard claims.exp.value > now else {
            throw AuthError(.expiredToken, "The bearer token has expired; get a new one.")
        }
        let scopes = Set((claims.scope ?? "").split(separator: " ").map(String.init))
        return try Principal(subject: claims.sub.value, scopes: scopes)
    }
}
