import Marketplace

/// Who a request comes from: the subject of its bearer token, with the token's scopes.
///
/// Subjects are `freelancer:<uuid>`, `client:<uuid>`, `service:<name>` and `admin:<name>`
/// (`admin` alone means `admin:admin`).
package struct Principal: Sendable, Hashable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable {
        case freelancer(FreelancerID)
        case client(ClientID)
        /// Another program (payments, notifications, analytics): reads and the event stream, by scope.
        case service(String)
        case admin(String)
    }

    /// What a `service:` token may do, besides nothing.
    package enum Scope {
        /// Follow `GET /v1/events`.
        package static let events = "events"
        /// Read any read model (candidates, feeds, explain, projection status).
        package static let reads = "reads"
        /// Run the timer commands (`ExpireGig`, `AutoApproveDelivery`) as `system`.
        package static let timers = "timers"
        package static let all = [events, reads, timers]
    }

    package let kind: Kind
    package let scopes: Set<String>

    package init(kind: Kind, scopes: Set<String> = []) {
        self.kind = kind
        self.scopes = scopes
    }

    /// Parses a token subject.
    package init(subject: String, scopes: Set<String> = []) throws(AuthError) {
        let bad = AuthError(
            .invalidToken,
            "The token's subject is not freelancer:<uuid>, client:<uuid>, service:<name> or admin:<name>.")
        if subject == "admin" {
            self.init(kind: .admin("admin"), scopes: scopes)
            return
        }
        guard let colon = subject.firstIndex(of: ":") else { throw bad }
        let rest = String(subject[subject.index(after: colon)...])
        switch subject[..<colon] {
        case "freelancer":
            guard let id = FreelancerID(uuidString: rest) else { throw bad }
            self.init(kind: .freelancer(id), scopes: scopes)
        case "client":
            guard let id = ClientID(uuidString: rest) else { throw bad }
            self.init(kind: .client(id), scopes: scopes)
        case "service":
            guard Self.isName(rest) else { throw bad }
            self.init(kind: .service(rest), scopes: scopes)
        case "admin":
            guard Self.isName(rest) else { throw bad }
            self.init(kind: .admin(rest), scopes: scopes)
        default:
            throw bad
        }
    }

    /// The token subject, e.g. `client:3f2a…`.
    package var subject: String {
        switch kind {
        case .freelancer(let id): "freelancer:\(id)"
        case .client(let id): "client:\(id)"
        case .service(let name): "service:\(name)"
        case .admin(let name): "admin:\(name)"
        }
    }

    package var description: String { subject }

    /// The actor commands run as; `nil` for services (they act only through scopes).
    package var actor: ActorRef? {
        switch kind {
        case .freelancer(let id): .freelancer(id)
        case .client(let id): .client(id)
        case .admin(let name): .admin(name)
        case .service: nil
        }
    }

    package var isAdmin: Bool {
        if case .admin = kind { return true }
        return false
    }

    /// Admins may do everything a scope allows; services only what their token lists.
    package func has(_ scope: String) -> Bool {
        if isAdmin { return true }
        if case .service = kind { return scopes.contains(scope) }
        return false
    }

    static func isName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 64 else { return false }
        return text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "@"):
                true
            default: false
            }
        }
    }
}
