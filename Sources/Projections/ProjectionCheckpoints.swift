import EventStore
import PQ

extension ProjectionEngine {
    /// Each of `projectors`' committed checkpoints (by name, at the projector's own version);
    /// a projector that never ran is at ``LogCheckpoint/start``.
    ///
    /// A read model reflects every event at or before its projector's checkpoint, so a reader
    /// waiting for its own write compares this with ``EventStore/checkpoint(atPosition:)``.
    public static func checkpoints(of projectors: [any Projector], pool: ConnectionPool) async throws -> [String:
        LogCheckpoint]
    {
        let names = projectors.map(\.name)
        let versions = projectors.map(\.version)
        let rows = try await pool.query(
            """
            SELECT p.name, p.transaction_id, p.global_position
            FROM ledger.projections p
            JOIN unnest(\(names)::text[], \(versions)::int[]) AS s(name, version) ON s.name = p.name AND s.version = p.version
            """)
        var result = Dictionary(uniqueKeysWithValues: names.map { ($0, LogCheckpoint.start) })
        for row in rows.rows {
            result[try row.decode(String.self, at: 0)] = LogCheckpoint(
                transactionID: try row.decode(UInt64.self, at: 1), position: try row.decode(Int64.self, at: 2))
        }
        return result
    }
}
