/// A transaction's isolation level.
public enum IsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension Connection {
    /// Runs `body` inside `BEGIN … COMMIT`. Any error thrown by `body` (or by `COMMIT`) rolls the
    /// transaction back and is rethrown; the rollback runs even when the task was cancelled.
    /// A body declared `throws(E)` (``PQErrorWrapping``) makes this throw `E`, with a failing
    /// `BEGIN` or `COMMIT` wrapped into it; any other body throws `any Error`.
    public nonisolated(nonsending) func withTransaction<R, E: PQErrorWrapping>(
        _ level: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (Connection) async throws(E) -> R
    ) async throws(E) -> R {
        try await transaction(level, readOnly: readOnly, wrapping: E.wrapping, body)
    }

    /// Runs `body` inside `BEGIN … COMMIT`, for a body that may throw any error.
    public nonisolated(nonsending) func withTransaction<R>(
        _ level: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (Connection) async throws -> R
    ) async throws -> R {
        try await transaction(level, readOnly: readOnly, wrapping: { $0 }, body)
    }

    private nonisolated(nonsending) func transaction<R, E: Error>(
        _ level: IsolationLevel, readOnly: Bool, wrapping: (PQError) -> E, _ body: (Connection) async throws(E) -> R
    ) async throws(E) -> R {
        let begin = "BEGIN ISOLATION LEVEL \(level.rawValue)\(readOnly ? " READ ONLY" : "")"
        do { try await executeScript(begin) } catch { throw wrapping(error) }
        do throws(E) {
            let value = try await body(self)
            do { try await executeScript("COMMIT") } catch { throw wrapping(error) }
            return value
        } catch {
            await rollbackQuietly()
            throw error
        }
    }

    /// `ROLLBACK`, not cancellable, ignoring failure: used on the way out of a failed
    /// transaction, where the original error is the one worth reporting. A connection whose
    /// rollback failed is broken and the pool drops it.
    func rollbackQuietly() {
        guard let handle, isUsableHandle(handle) else { return }
        _ = try? runScript("ROLLBACK")
    }
}

/// Retries `body` when it fails with a serialization failure or a deadlock (SQLSTATE 40001,
/// 40P01), up to `maxAttempts` times with jittered exponential backoff. Other errors are
/// rethrown at once. `body` must be a whole transaction, safe to run again.
public nonisolated(nonsending) func withTransientRetry<R>(
    maxAttempts: Int = 8,
    _ body: () async throws -> R
) async throws -> R {
    var attempt = 1
    while true {
        do {
            return try await body()
        } catch let error as PQError where error.isTransient && attempt < maxAttempts {
            let base = min(200, 2 << min(attempt, 7))
            try await Task.sleep(for: .milliseconds(Int.random(in: base / 2...base)))
            attempt += 1
        }
    }
}

/// A transaction's snapshot, exported by ``Connection/exportSnapshot()`` for other sessions to
/// import (``Connection/importSnapshot(_:)``), so that several connections read one state of the
/// database — PostgreSQL's synchronized snapshots (`pg_export_snapshot()`).
public struct SnapshotID: Sendable, Hashable, CustomStringConvertible {
    /// The server's identifier, e.g. `00000003-0000001B-1` (hexadecimal digits and dashes only).
    public let text: String

    /// nil unless `text` has the form of a snapshot identifier: it is spliced into
    /// `SET TRANSACTION SNAPSHOT`, which takes no bound parameter.
    public init?(_ text: String) {
        guard !text.isEmpty, text.count <= 64, text.allSatisfy({ $0 == "-" || $0.isHexDigit }) else { return nil }
        self.text = text
    }

    public var description: String { text }
}

extension Connection {
    /// Exports the snapshot of the transaction this connection is in (REPEATABLE READ or
    /// SERIALIZABLE, so the snapshot lasts): importable while the transaction stays open.
    public func exportSnapshot() async throws(PQError) -> SnapshotID {
        let text = try await query("SELECT pg_export_snapshot()").scalar(String.self)
        guard let id = SnapshotID(text) else {
            throw PQError(.protocolViolation, "The server exported a snapshot identifier of an unexpected form.")
        }
        return id
    }

    /// Makes the transaction this connection is in see `snapshot`'s state. It must be the
    /// transaction's first statement, in a REPEATABLE READ or SERIALIZABLE transaction, while
    /// the exporting transaction is still open (the server refuses otherwise).
    public func importSnapshot(_ snapshot: SnapshotID) async throws(PQError) {
        // The identifier is validated (hexadecimal digits and dashes): SET takes no parameters.
        _ = try await execute(SQL(unsafeText: "SET TRANSACTION SNAPSHOT '\(snapshot.text)'"))
    }
}
