import PQ

extension EventStore {
    /// The gap-safe checkpoint of the event at `position` (its transaction id and position), or
    /// `nil` if no event has that position (never appended, or rolled back).
    ///
    /// A reader that reached a checkpoint at or past it has seen that event. This is how a
    /// position a command returned becomes something to compare projector checkpoints with:
    /// positions alone are not in commit order.
    public func checkpoint(atPosition position: Int64) async throws(EventStoreError) -> LogCheckpoint? {
        try await run { connection in
            guard
                let row = try await connection.query(
                    "SELECT transaction_id, global_position FROM ledger.events WHERE global_position = \(position)"
                ).first
            else { return nil }
            return LogCheckpoint(
                transactionID: try row.decode(UInt64.self, at: 0), position: try row.decode(Int64.self, at: 1))
        }
    }
}
