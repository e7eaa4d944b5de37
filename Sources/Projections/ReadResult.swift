import EventStore
import Foundation
import PQ

/// How far the log a read reflects: one projection's checkpoint, read in the same snapshot as
/// the rows. Every event up to `position` (and none after it, in the log's gap-safe order) is
/// in what was read; `position` 0 means the projection has applied nothing yet.
public struct ReadCheckpoint: Sendable, Codable, Hashable {
    /// The projector's name (`competition_gigs`, `competition_skills`, `price_trends`, `matching`).
    public let projection: String
    /// Its read-model version (the `_vN` of its tables).
    public let version: Int
    /// The global position of the last event it applied.
    public let position: Int64

    /// The checkpoint `position` of projection `projection` at read-model version `version`.
    public init(projection: String, version: Int, position: Int64) {
        self.projection = projection
        self.version = version
        self.position = position
    }
}

/// A read model's answer: `data`, and the checkpoint of each projection it was read from.
///
/// JSON: `{"data": …, "checkpoints": [{"projection", "version", "position"}]}`.
public struct Snapshot<Value: Sendable & Codable & Hashable>: Sendable, Codable, Hashable {
    /// The answer.
    public let data: Value
    /// The checkpoint of each projection the answer was read from, in the snapshot of the answer.
    public let checkpoints: [ReadCheckpoint]

    /// An answer of `data` read at `checkpoints`.
    public init(data: Value, checkpoints: [ReadCheckpoint]) {
        self.data = data
        self.checkpoints = checkpoints
    }
}

/// One page of a list: `data` in the list's documented order, and `nextCursor` to pass as
/// `after:` for the next page (`null` on the last page). Every page is read in one snapshot;
/// successive pages may reflect later checkpoints.
///
/// JSON: `{"data": [...], "nextCursor": "…" | null, "checkpoints": [...]}`.
public struct Page<Item: Sendable & Codable & Hashable>: Sendable, Codable, Hashable {
    /// The items of this page, in the list's documented order.
    public let data: [Item]
    /// The cursor for the next page; `null` on the last page.
    @NullEncoded public var nextCursor: String?
    /// The checkpoint of each projection the page was read from.
    public let checkpoints: [ReadCheckpoint]

    /// A page of `data`, continued by `nextCursor` (`nil` for the last page), read at
    /// `checkpoints`.
    public init(data: [Item], nextCursor: String?, checkpoints: [ReadCheckpoint]) {
        self.data = data
        self.nextCursor = nextCursor
        self.checkpoints = checkpoints
    }
}

/// A query the read-model APIs refuse, worded for the person who sent it.
public struct ReadQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: String, Sendable, Hashable {
        case invalidCursor = "INVALID_CURSOR"
        case invalidLimit = "INVALID_LIMIT"
        case invalidArgument = "INVALID_ARGUMENT"
    }
    private let code: Code
    public let description: String

    /// The stable code: `INVALID_CURSOR`, `INVALID_LIMIT` or `INVALID_ARGUMENT`.
    public var codeName: String { code.rawValue }

    static func invalidCursor() -> Self {
        Self(code: .invalidCursor, description: "The cursor is not one this list returned; start again without it.")
    }
    static func invalidLimit(_ limit: Int) -> Self {
        Self(code: .invalidLimit, description: "A limit must be 1…\(ReadModels.maximumLimit); got \(limit).")
    }
    static func invalidArgument(_ description: String) -> Self {
        Self(code: .invalidArgument, description: description)
    }

    /// Errors are equal when their codes are (the wording may differ).
    public static func == (a: Self, b: Self) -> Bool { a.code == b.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

/// What every read-model query shares: one read-only snapshot, the checkpoints, limits, cursors.
enum ReadModels {
    static let maximumLimit = 1_000

    /// Runs `body` in one read-only REPEATABLE READ snapshot (with JIT off: compiling costs more
    /// than these short queries take) and reads the checkpoints of `projections` in the same
    /// snapshot.
    static func read<R: Sendable>(
        _ pool: ConnectionPool, _ projections: [any Projector], _ body: (Connection) async throws -> R
    ) async throws -> (R, [ReadCheckpoint]) {
        try await pool.withTransaction(.repeatableRead, readOnly: true) { conn in
            // The snapshot is taken by this first statement, so the checkpoints and the rows
            // read after them are of one state; it also turns JIT off (SET LOCAL), so a read
            // costs no extra round trip for either.
            let checkpoints = try await checkpointsWithoutJIT(projections, conn)
            return (try await body(conn), checkpoints)
        }
    }

    /// The checkpoints of `projections` (position 0 for one that never ran); sets `jit` off for
    /// the rest of the transaction.
    private static func checkpointsWithoutJIT(_ projections: [any Projector], _ conn: Connection) async throws
        -> [ReadCheckpoint]
    {
        try await checkpoints(projections, conn).map(\.read)
    }

    /// The one read of projector checkpoints (`read_models.projection_checkpoints`, readable by
    /// `gigledger_reader`): per projector, in the order given, its position (for a result to
    /// say what it reflects) and the whole (transaction id, position) pair (for a reader waiting
    /// for its own write: ``ProjectionEngine/checkpoints(of:pool:)``). A projector that never ran
    /// is at ``LogCheckpoint/start``. Sets `jit` off for the rest of the transaction (inside one;
    /// outside, for this statement only).
    static func checkpoints(_ projections: [any Projector], _ conn: Connection) async throws -> [(
        read: ReadCheckpoint, log: LogCheckpoint
    )] {
        try await conn.query(
            ("""
            SELECT p.name, p.version, coalesce(c.checkpoint_position, 0) AS position, c.transaction_id
            FROM (SELECT set_config('jit', 'off', true)) AS s(jit)
            CROSS JOIN unnest(\(projections.map(\.name))::text[], \(projections.map { Int32($0.version) })::int4[]) WITH ORDINALITY AS p(name, version, n)
            LEFT JOIN read_models.projection_checkpoints c ON c.name = p.name AND c.version = p.version
            ORDER BY p.n
            """ as SQL).prepared()
        ).rows.map {
            let position = try $0.decode(Int64.self, at: 2)
            let transaction = try $0.decode(UInt64?.self, at: 3)
            return (
                ReadCheckpoint(
                    projection: try $0.decode(String.self, at: 0), version: try $0.decode(Int.self, at: 1),
                    position: position),
                transaction.map { LogCheckpoint(transactionID: $0, position: position) } ?? .start
            )
        }
    }

    static func validate(limit: Int) throws(ReadQueryError) {
        guard (1...maximumLimit).contains(limit) else { throw .invalidLimit(limit) }
    }

    /// An opaque cursor: the sort key of the last item of a page.
    static func cursor(_ key: [String]) -> String {
        let data = (try? JSONEncoder().encode(key)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        ).replacingOccurrences(of: "=", with: "")
    }

    /// The sort key inside `cursor`, of `parts` parts; nil for no cursor.
    static func key(_ cursor: String?, parts: Int) throws(ReadQueryError) -> [String]? {
        guard let cursor else { return nil }
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let key = try? JSONDecoder().decode([String].self, from: data),
            key.count == parts
        else { throw .invalidCursor() }
        return key
    }

    /// The sort key inside `cursor` whose parts are of the kinds given (`cursor` is opaque, but a
    /// client can still hand-craft one: a part of the wrong kind must be refused here, not reach
    /// PostgreSQL as a failed cast).
    static func key(_ cursor: String?, _ kinds: [CursorPart]) throws(ReadQueryError) -> [String]? {
        guard let key = try key(cursor, parts: kinds.count) else { return nil }
        for (part, kind) in zip(key, kinds) {
            let valid: Bool
            switch kind {
            case .text: valid = true
            case .integer: valid = Int64(part) != nil
            case .number: valid = Double(part).map { $0.isFinite } ?? false
            case .time: valid = RFC3339.parse(part) != nil
            }
            guard valid else { throw .invalidCursor() }
        }
        return key
    }

    enum CursorPart { case text, integer, number, time }

    /// `rows` cut to `limit`, with the cursor of the last one kept when more follow.
    static func page<Item>(_ rows: [Item], limit: Int, key: (Item) -> [String]) -> ([Item], String?) {
        guard rows.count > limit else { return (rows, nil) }
        let kept = Array(rows.prefix(limit))
        return (kept, kept.last.map { cursor(key($0)) })
    }
}
