import Foundation
import JWTKit

/// A key that signs or verifies access tokens, written as one line `kid:algorithm:material`:
///
/// - `k1:hs256:<base64url secret of at least 32 bytes>` signs and verifies (shared secret);
/// - `k2:ed25519:<base64url private key d>` signs and verifies (EdDSA);
/// - `k2:ed25519-public:<base64url public key x>` only verifies.
///
/// The server takes several (`--token-key`, repeatable, or `GIGLEDGER_TOKEN_KEYS`, separated by
/// commas or whitespace), so keys rotate: tokens name their key in the `kid` header; add the new
/// key, issue with it, and drop the old one once its tokens have expired.
package struct TokenKey: Sendable, Hashable, CustomStringConvertible {
    package enum Material: Sendable, Hashable {
        case hs256(secret: [UInt8])
        case ed25519Private(d: String)
        case ed25519Public(x: String)
    }

    package let kid: String
    package let material: Material

    package init(kid: String, material: Material) {
        self.kid = kid
        self.material = material
    }

    /// Parses `kid:algorithm:material`.
    package init(parsing text: String) throws(AuthError) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, Principal.isName(String(parts[0])), !parts[2].isEmpty else {
            throw AuthError(
                .invalidKey,
                "A token key is kid:algorithm:material (algorithm hs256, ed25519 or ed25519-public); make one with `gigctl tokens keygen`."
            )
        }
        let kid = String(parts[0])
        let material = String(parts[2])
        switch parts[1] {
        case "hs256":
            guard let secret = Self.base64URLDecode(material), secret.count >= 32 else {
                throw AuthError(.invalidKey, "Key \(kid): an hs256 secret is base64url of at least 32 bytes.")
            }
            self.init(kid: kid, material: .hs256(secret: secret))
        case "ed25519":
            guard (try? EdDSA.PrivateKey(d: material, curve: .ed25519)) != nil else {
                throw AuthError(.invalidKey, "Key \(kid): an ed25519 private key is its base64url `d` (32 bytes).")
            }
            self.init(kid: kid, material: .ed25519Private(d: material))
        case "ed25519-public":
            guard (try? EdDSA.PublicKey(x: material, curve: .ed25519)) != nil else {
                throw AuthError(.invalidKey, "Key \(kid): an ed25519 public key is its base64url `x` (32 bytes).")
            }
            self.init(kid: kid, material: .ed25519Public(x: material))
        default:
            throw AuthError(
                .invalidKey, "Key \(kid): algorithm \(parts[1].prefix(20)) is not hs256, ed25519 or ed25519-public.")
        }
    }

    /// Parses a list separated by commas or whitespace (the form of `GIGLEDGER_TOKEN_KEYS`).
    package static func parseList(_ text: String) throws(AuthError) -> [TokenKey] {
        var keys: [TokenKey] = []
        for item in text.split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
            keys.append(try TokenKey(parsing: String(item)))
        }
        return keys
    }

    /// A new random key.
    package static func generate(kid: String, algorithm: String) throws(AuthError) -> TokenKey {
        switch algorithm {
        case "hs256":
            var generator = SystemRandomNumberGenerator()
            return TokenKey(kid: kid, material: .hs256(secret: (0..<32).map { _ in generator.next() }))
        case "ed25519":
            do {
                let key = try EdDSA.PrivateKey(curve: .ed25519)
                return TokenKey(
                    kid: kid, material: .ed25519Private(d: Self.base64URLEncode(Array(key.rawRepresentation))))
            } catch {
                throw AuthError(.invalidKey, "Could not generate an ed25519 key: \(error).")
            }
        default:
            throw AuthError(.invalidKey, "Algorithm \(algorithm.prefix(20)) is not hs256 or ed25519.")
        }
    }

    /// Whether this key can sign (not only verify).
    package var canSign: Bool {
        if case .ed25519Public = material { return false }
        return true
    }

    /// The key line, secret included: `kid:algorithm:material`.
    package var line: String {
        switch material {
        case .hs256(let secret): "\(kid):hs256:\(Self.base64URLEncode(secret))"
        case .ed25519Private(let d): "\(kid):ed25519:\(d)"
        case .ed25519Public(let x): "\(kid):ed25519-public:\(x)"
        }
    }

    /// The verify-only form of an ed25519 key (`nil` for a shared secret, which has none).
    package var publicLine: String? {
        switch material {
        case .hs256: return nil
        case .ed25519Private(let d):
            guard let key = try? EdDSA.PrivateKey(d: d, curve: .ed25519) else { return nil }
            return "\(kid):ed25519-public:\(Self.base64URLEncode(Array(key.publicKey.rawRepresentation)))"
        case .ed25519Public: return line
        }
    }

    /// Never the secret: `kid (algorithm)`.
    package var description: String {
        switch material {
        case .hs256: "\(kid) (hs256)"
        case .ed25519Private: "\(kid) (ed25519)"
        case .ed25519Public: "\(kid) (ed25519, verify only)"
        }
    }

    static func base64URLEncode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        ).replacingOccurrences(of: "=", with: "")
    }

    static func base64URLDecode(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
