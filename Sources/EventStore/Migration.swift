/// One numbered, forward-only schema change from `sql/`.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
    /// The file it came from, for messages.
    public var fileName: String { "sql/\(name).sql" }
}
