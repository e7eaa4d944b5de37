import ArgumentParser
import Foundation
import Server

struct TokensGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Make signing keys and access tokens for `gigctl serve`.",
        subcommands: [TokensKeygen.self, TokensIssue.self])
}

/// `gigctl tokens keygen`
struct TokensKeygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Print a new token key, kid:algorithm:material.",
        discussion: """
            The line is a secret: give it to the server (--token-key or GIGLEDGER_TOKEN_KEYS) and \
            to whoever issues tokens. For ed25519 the public form (kid:ed25519-public:x) is printed \
            on stderr; a server given only that verifies tokens but cannot issue them.

            Rotation: generate a key with a new kid, list it first (it signs) beside the old one, \
            and drop the old one once its tokens have expired.
            """)

    @Option(help: "The key's id, sent in each token's kid header.") var kid = "k1"
    @Option(help: "hs256 (shared secret) or ed25519 (EdDSA).") var algorithm = "ed25519"
    @Flag(help: "Print machine-readable JSON instead of text.") var json = false

    func run() async throws {
        try await runReportingErrors(json: json) {
            let key: TokenKey
            do { key = try TokenKey.generate(kid: kid, algorithm: algorithm) } catch let error as AuthError {
                throw CLIError(.usage, error.message)
            }
            if json {
                struct Printed: Encodable {
                    let kid: String
                    let algorithm: String
                    let key: String
                    let publicKey: String?
                }
                try Output.json(Printed(kid: key.kid, algorithm: algorithm, key: key.line, publicKey: key.publicLine))
            } else {
                Output.line(key.line)
                if let publicLine = key.publicLine { Output.error("public (verify only): \(publicLine)") }
            }
        }
    }
}

/// `gigctl tokens issue`
struct TokensIssue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue", abstract: "Print an access token for an actor.",
        discussion: """
            Actors: freelancer:<uuid>, client:<uuid>, service:<name> (give it --scope events, reads \
            or timers) or admin:<name>. The key is --token-key, else the first key of \
            GIGLEDGER_TOKEN_KEYS that can sign.

            Example:
              TOKEN=$(gigctl tokens issue --actor client:3f2a9c1e-0000-4000-8000-000000000001 --ttl 1h)
              curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/...
            """)

    @Option(help: ArgumentHelp("Who the token speaks for.", valueName: "actor")) var actor: String
    @Option(help: ArgumentHelp("How long it is valid: 90s, 15m, 1h, 7d.", valueName: "duration")) var ttl = "1h"
    @Option(
        help: ArgumentHelp(
            "A scope for a service token (repeatable): \(Principal.Scope.all.joined(separator: ", ")).",
            valueName: "scope"))
    var scope: [String] = []
    @Option(
        name: .customLong("token-key"), help: ArgumentHelp("The signing key, kid:algorithm:material.", valueName: "key")
    )
    var tokenKey: String?
    @Option(help: ArgumentHelp("The audience the token names.", valueName: "aud")) var audience = "gigledger"
    @Flag(help: "Report errors as one JSON object on stderr.") var json = false

    func validate() throws {
        guard Self.seconds(ttl) != nil else {
            throw ValidationError("--ttl takes a duration such as 90s, 15m, 1h or 7d.")
        }
        for item in scope where !Principal.Scope.all.contains(item) {
            throw ValidationError("--scope \(item) is not one of \(Principal.Scope.all.joined(separator: ", ")).")
        }
    }

    func run() async throws {
        try await runReportingErrors(json: json) {
            do {
                let principal = try Principal(subject: actor, scopes: Set(scope))
                let keys =
                    try tokenKey.map { [try TokenKey(parsing: $0)] }
                    ?? TokenKey.parseList(ProcessInfo.processInfo.environment["GIGLEDGER_TOKEN_KEYS"] ?? "")
                let authority = try await TokenAuthority(keys: keys, audience: audience)
                let token = try await authority.issue(for: principal, ttl: .seconds(Self.seconds(ttl) ?? 3600))
                Output.line(token)
            } catch let error as AuthError {
                throw CLIError(error.code == .invalidKey ? .configuration : .usage, error.message)
            }
        }
    }

    /// "90s", "15m", "1h", "7d" or plain seconds.
    static func seconds(_ text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let last = text.last, let unit = units[last], let value = Int(text.dropLast()), value > 0 {
            return value * unit
        }
        if let value = Int(text), value > 0 { return value }
        return nil
    }
}
