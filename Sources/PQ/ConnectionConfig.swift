import Foundation

/// Where and how to connect.
///
/// `target` is handed to libpq as-is: a URL (`postgresql://user@host:5432/db`) or a conninfo
/// string (`host=/tmp port=5432 dbname=db`). Anything it leaves out comes from libpq's usual
/// environment variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, …).
/// ``description`` never shows a password.
public struct ConnectionConfig: Sendable, CustomStringConvertible {
    /// A URL or conninfo string; empty means "use the `PG*` environment variables only".
    public var target: String
    /// Reported in `pg_stat_activity.application_name`.
    public var applicationName: String
    /// Session settings applied right after connecting (for example `synchronous_commit`).
    public var sessionSettings: [(name: String, value: String)]
    /// Seconds libpq waits for the server to accept a connection.
    public var connectTimeoutSeconds: Int

    /// A configuration for `target` (a URL or conninfo string; empty for the `PG*` variables only).
    public init(
        _ target: String, applicationName: String = "gigledger",
        sessionSettings: [(name: String, value: String)] = [], connectTimeoutSeconds: Int = 10
    ) {
        self.target = target
        self.applicationName = applicationName
        self.sessionSettings = sessionSettings
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// The explicit URL if given, else `DATABASE_URL`, else the `PG*` variables.
    public static func resolve(
        _ explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        applicationName: String = "gigledger"
    ) -> ConnectionConfig {
        if let explicit, !explicit.isEmpty { return ConnectionConfig(explicit, applicationName: applicationName) }
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            return ConnectionConfig(url, applicationName: applicationName)
        }
        return ConnectionConfig("", applicationName: applicationName)
    }

    /// This configuration aimed at another database on the same server.
    public func withDatabase(_ name: String) -> ConnectionConfig {
        var copy = self
        if target.isEmpty {
            copy.target = "dbname=\(ConnectionConfig.quoteConninfoValue(name))"
        } else if ConnectionConfig.isURL(target), var parts = URLComponents(string: target) {
            parts.path = "/" + name
            copy.target = parts.string ?? target
        } else {
            copy.target = target + " dbname=\(ConnectionConfig.quoteConninfoValue(name))"
        }
        return copy
    }

    public var description: String { ConnectionConfig.redact(target.isEmpty ? "(PG* environment)" : target) }

    static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    static func quoteConninfoValue(_ value: String) -> String {
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return "'\(escaped)'"
    }

    /// The passwords that `target` and the environment carry, so messages can be scrubbed of them.
    var secrets: [String] {
        var found: [String] = []
        if let pw = ProcessInfo.processInfo.environment["PGPASSWORD"], !pw.isEmpty { found.append(pw) }
        if ConnectionConfig.isURL(target), let parts = URLComponents(string: target) {
            if let pw = parts.password, !pw.isEmpty { found.append(pw) }
            if let pw = parts.percentEncodedPassword, !pw.isEmpty { found.append(pw) }
            for item in parts.queryItems ?? [] where item.name == "password" {
                if let pw = item.value, !pw.isEmpty { found.append(pw) }
            }
        } else if let range = target.range(of: #"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)"#, options: .regularExpression)
        {
            let pair = target[range]
            if let eq = pair.firstIndex(of: "=") {
                var value = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 {
                    value = String(value.dropFirst().dropLast())
                }
                if !value.isEmpty { found.append(value) }
            }
        }
        return found
    }

    /// `text` with every password replaced by `***`: URL user-info, `password=` pairs, and the
    /// literal passwords this configuration knows of.
    public func scrub(_ text: String) -> String {
        var out = ConnectionConfig.redact(text)
        for secret in secrets.sorted(by: { $0.count > $1.count }) where secret.count >= 1 {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        return out
    }

    /// A URL or conninfo string with its password replaced by `***`.
    public static func redact(_ text: String) -> String {
        var out = text
        // postgresql://user:secret@host → postgresql://user:***@host
        out = out.replacingOccurrences(
            of: #"(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@"#, with: "$1:***@", options: .regularExpression)
        // password=secret or password='se cret'
        out = out.replacingOccurrences(
            of: #"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)"#, with: "$1***",
            options: [.regularExpression, .caseInsensitive])
        return out
    }
}
