import EventStore
import PQ

extension ProjectionEngine {
    /// Each of `projectors`' committed checkpoints (by name, at the projector's own version);
    /// a projector that never ran is at ``LogCheckpoint/start``.
    ///
    /// A read model reflects every event at or before its projector's checkpoint, so a reader
    /// waiting for its own write compares this with ``EventStore/checkpoint(atPosition:)``. The
    /// same query as the checkpoints every query result carries (`ReadModels.checkpoints`).
    public static func checkpoints(of projectors: [any Projector], pool: ConnectionPool) async throws -> [String:
        LogCheckpoint]
    {
        let rows = try await pool.withConnection { try await ReadModels.checkpoints(projectors, $0) }
        return Dictionary(rows.map { ($0.read.projection, $0.log) }, uniquingKeysWith: { first, _ in first })
    }
}
