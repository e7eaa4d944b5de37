import Foundation
import Server
import Testing

@Suite("Tokens")
struct TokenTests {
    @Test("keys round-trip through their line; ed25519 tokens verify with the public key alone")
    func keys() async throws {
        let signing = try TokenKey.generate(kid: "k2", algorithm: "ed25519")
        #expect(try TokenKey(parsing: signing.line) == signing)
        let publicLine = try #require(signing.publicLine)
        let verifyOnly = try TokenKey(parsing: publicLine)
        #expect(!verifyOnly.canSign)
        #expect(!signing.description.contains(signing.line.split(separator: ":").last ?? ""))

        let issuer = try await TokenAuthority(keys: [signing])
        let verifier = try await TokenAuthority(keys: [verifyOnly])
        let token = try await issuer.issue(
            for: Principal(subject: "service:payments", scopes: ["events"]), ttl: .seconds(60))
        let principal = try await verifier.verify(token)
        #expect(principal.subject == "service:payments")
        #expect(principal.scopes == ["events"])
        await #expect(throws: AuthError.self) { try await verifier.issue(for: principal, ttl: .seconds(60)) }
    }

    @Test(
        "rotation: tokens of the old and the new key both verify while both are listed, old ones fail once it is dropped"
    )
    func rotation() async throws {
        let old = try TokenKey.generate(kid: "old", algorithm: "hs256")
        let new = try TokenKey.generate(kid: "new", algorithm: "ed25519")
        let before = try await TokenAuthority(keys: [old])
        let during = try await TokenAuthority(keys: [new, old])
        let after = try await TokenAuthority(keys: [new])
        let subject = try Principal(subject: "freelancer:\(UUID().uuidString.lowercased())")
        let oldToken = try await before.issue(for: subject, ttl: .seconds(60))
        let newToken = try await during.issue(for: subject, ttl: .seconds(60))
        #expect(try await during.verify(oldToken) == subject)
        #expect(try await during.verify(newToken) == subject)
        #expect(try await after.verify(newToken) == subject)
        await #expect(throws: AuthError.self) { try await after.verify(oldToken) }
    }

    @Test("malformed keys and subjects are refused with a message")
    func refusals() throws {
        #expect(throws: AuthError.self) { try TokenKey(parsing: "k1:hs256:short") }
        #expect(throws: AuthError.self) { try TokenKey(parsing: "k1:rsa:abc") }
        #expect(throws: AuthError.self) { try TokenKey(parsing: "no-colons") }
        #expect(throws: AuthError.self) { try Principal(subject: "freelancer:not-a-uuid") }
        #expect(throws: AuthError.self) { try Principal(subject: "robot:x") }
        #expect(try Principal(subject: "admin").subject == "admin:admin")
    }
}
