import PQ

/// Which events of the log a reader wants: some stream categories, some event types, or all.
public struct LogFilter: Sendable, Hashable, Codable {
    /// Only events of these stream categories (`gig`, `contract`, …); `nil` for all.
    public var categories: [String]?
    /// Only events of these types (`BidPlaced`, …); `nil` for all.
    public var types: [String]?

    /// A filter on `categories` and `types`; `nil` for either means no condition on it. Both given:
    /// an event must match both.
    public init(categories: [String]? = nil, types: [String]? = nil) {
        self.categories = categories
        self.types = types
    }

    /// Every event.
    public static let all = LogFilter()

    /// Adds the filter's conditions (`AND …`) to a query over `ledger.events`.
    func append(to sql: inout SQL) {
        if let categories { sql.append(" AND category = ANY(\(categories)::text[])") }
        if let types { sql.append(" AND event_type = ANY(\(types)::text[])") }
    }
}
