/// One numbered, forward-only schema change from `sql/`.
public struct Migration: Sendable, Hashable {
    /// The file's number (`0001` is 1); migrations run in ascending order.
    public let version: Int
    /// The file name without `.sql` (`0001_event_log`).
    public let name: String
    /// The file's SQL text; its SHA-256 is recorded when applied.
    public let sql: String
    /// A migration numbered `version` from the file `name`.sql holding `sql`.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
    /// The file it came from, for messages.
    public var fileName: String { "sql/\(name).sql" }
}
