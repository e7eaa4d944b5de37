import Foundation
import PQ
import Synchronization

/// How an ``EventStore`` coalesces concurrent appends (group append): commands that wait while
/// earlier groups are being written are sent together, as one `ledger.append_group` call in one
/// transaction and one round trip. The server decides the group's commands in order and writes
/// them with a few statements for the whole group (`ledger.append_group_at_once`); a group it
/// cannot take at once (a malformed command, a racing retry, a stream created meanwhile) goes
/// command by command, each in a subtransaction of its own, with exactly the same outcomes.
///
/// Every command's outcome is its own: a conflict, a malformed append or a repeated command id in
/// one never fails another. No caller is answered before the group's commit returned (with
/// `synchronous_commit` on: before it is durable). A group whose outcome is unknown (the
/// connection broke) is sent again command by command on the ordinary path, which the command
/// ids make safe: what had committed is answered with its first result.
public struct AppendGrouping: Sendable, Hashable {
    /// The most commands in one group.
    public var maxCommands: Int
    /// How many groups may be in flight at once (each on a connection of its own). While all are
    /// in flight, new appends wait and form the next group: the busier the store, the larger the
    /// groups. A group of one takes the ordinary single-append path.
    public var maxGroupsInFlight: Int

    /// At most 32 commands per group (a group that goes command by command gives each command's
    /// subtransaction a transaction id of its own; PostgreSQL caches 64 per session before
    /// snapshots get slower), 2 groups in flight.
    public init(maxCommands: Int = 32, maxGroupsInFlight: Int = 2) {
        self.maxCommands = max(1, min(maxCommands, 64))
        self.maxGroupsInFlight = max(1, maxGroupsInFlight)
    }
}

/// The waiting commands of a store with ``AppendGrouping`` and the groups in flight.
final class AppendGrouper: Sendable {
    struct Pending: Sendable {
        let request: AppendRequest
        let arrays: AppendArrays
        let continuation: CheckedContinuation<Result<AppendResult, EventStoreError>, Never>
    }
    struct State: Sendable {
        var waiting: [Pending] = []
        var inFlight = 0
    }

    let grouping: AppendGrouping
    private let state = Mutex(State())

    init(_ grouping: AppendGrouping) { self.grouping = grouping }

    /// Queues `request` and returns its own outcome once its group has committed (or failed).
    func append(_ request: AppendRequest, arrays: AppendArrays, store: EventStore) async -> Result<
        AppendResult, EventStoreError
    > {
        await withCheckedContinuation { continuation in
            let lead = state.withLock { state in
                state.waiting.append(Pending(request: request, arrays: arrays, continuation: continuation))
                guard state.inFlight < grouping.maxGroupsInFlight else { return false }
                state.inFlight += 1
                return true
            }
            if lead { Task { await self.lead(store) } }
        }
    }

    /// Writes groups of what waits until nothing does, then gives up its slot.
    private func lead(_ store: EventStore) async {
        while true {
            let group: [Pending] = state.withLock { state in
                guard !state.waiting.isEmpty else {
                    state.inFlight -= 1
                    return []
                }
                let count = min(grouping.maxCommands, state.waiting.count)
                let taken = Array(state.waiting.prefix(count))
                state.waiting.removeFirst(count)
                return taken
            }
            if group.isEmpty { return }
            await store.write(group)
        }
    }
}

extension EventStore {
    /// Writes one group and answers each of its callers.
    func write(_ group: [AppendGrouper.Pending]) async {
        if group.count == 1, let only = group.first {
            only.continuation.resume(returning: await appendAlone(only.request))
            return
        }
        let statement = Self.groupStatement(group.map { ($0.request.commandId, $0.arrays) })
        let rows: [Row]
        do {
            rows = try await pool.withConnection { connection in
                let outcomes = try await connection.pipeline(
                    [statement, Self.notifyStatement], mode: .eachOwnTransaction)
                return try outcomes[0].get().rows
            }
        } catch {
            // The group's outcome is unknown or it was refused as a whole: each command goes
            // again on its own (idempotent by command id; committed ones get their first result).
            await withTaskGroup(of: Void.self) { tasks in
                for pending in group {
                    tasks.addTask { pending.continuation.resume(returning: await self.appendAlone(pending.request)) }
                }
            }
            return
        }
        // Stored commands and final refusals are answered here, at once; only a row that needs
        // another look (a conflict that may be a racing retry, an unreadable row) costs a task.
        var unsettled: [(pending: AppendGrouper.Pending, row: Row?)] = []
        for (index, pending) in group.enumerated() {
            let row = index < rows.count ? rows[index] : nil
            if let row, let settled = Self.settledOutcome(row) {
                pending.continuation.resume(returning: settled)
            } else {
                unsettled.append((pending, row))
            }
        }
        guard !unsettled.isEmpty else { return }
        await withTaskGroup(of: Void.self) { tasks in
            for (pending, row) in unsettled {
                tasks.addTask {
                    pending.continuation.resume(returning: await self.outcome(of: pending.request, row: row))
                }
            }
        }
    }

    /// The refusal a row of `ledger.append_group` reports (its SQLSTATE, message, detail and
    /// constraint), as the error the same statement would have raised alone.
    private static func rowError(_ row: Row) -> PQError {
        let state = ((try? row.decode(String?.self, at: 1)) ?? nil) ?? ""
        let message = ((try? row.decode(String?.self, at: 2)) ?? nil) ?? "unknown error"
        return PQError(
            .server, "PostgreSQL rejected the append: \(message).",
            server: ServerErrorFields(
                sqlState: SQLState(state), message: message, detail: (try? row.decode(String?.self, at: 3)) ?? nil,
                constraint: (try? row.decode(String?.self, at: 4)) ?? nil))
    }

    /// The outcome of a row that needs nothing more from the database: a stored command, or a
    /// refusal that cannot be a retry racing its first attempt (malformed, a constraint); nil
    /// for the others.
    private static func settledOutcome(_ row: Row) -> Result<AppendResult, EventStoreError>? {
        guard let stored = try? row.decode(PGJSON?.self, at: 0) else {
            guard let state = try? row.decode(String?.self, at: 1), state != SQLState.appendConflict.rawValue,
                state != SQLState.uniqueViolation.rawValue,
                state.hasPrefix("GL") || state.hasPrefix("22") || state.hasPrefix("23")
            else { return nil }
            return .failure(mapAppendError(rowError(row)))
        }
        do {
            return .success(try AppendResult(json: stored))
        } catch {
            return .failure(error)
        }
    }

    /// Appends several commands inside the caller's transaction on `connection` (see
    /// ``withStreamLock(_:_:)``) with one `ledger.append_group` call, and returns each command's
    /// own outcome, in order: a conflict or a refusal of one never fails another. Commands with
    /// ``AppendRequest/prerequisites`` are refused here (send them alone). The caller commits;
    /// nothing is stored if it rolls back. A conflict is final here: a retry racing its first
    /// attempt is the caller's to recognise, after its transaction.
    public func append(together requests: [AppendRequest], within connection: Connection) async throws(EventStoreError)
        -> [Result<AppendResult, EventStoreError>]
    {
        guard !requests.isEmpty else { return [] }
        var group: [(commandId: UUID, arrays: AppendArrays)] = []
        for request in requests {
            guard request.prerequisites.isEmpty else {
                throw EventStoreError(
                    .invalidAppend,
                    "Command \(request.commandId) has statements to run first; an append with prerequisites goes alone, not in a group."
                )
            }
            group.append((request.commandId, try AppendArrays(request)))
        }
        let rows: [Row]
        do { rows = try await connection.query(Self.groupStatement(group)).rows } catch {
            throw Self.mapAppendError(error)
        }
        guard rows.count == requests.count else {
            throw EventStoreError(
                .database, "ledger.append_group returned \(rows.count) rows for \(requests.count) commands.")
        }
        return rows.map { row in
            Self.settledOutcome(row) ?? .failure(Self.mapAppendError(Self.rowError(row)))
        }
    }

    /// One command's outcome from its row of `ledger.append_group`.
    private func outcome(of request: AppendRequest, row: Row?) async -> Result<AppendResult, EventStoreError> {
        guard let row else { return await appendAlone(request) }
        do {
            if let stored = try row.decode(PGJSON?.self, at: 0) {
                return .success(try AppendResult(json: stored))
            }
            let error = Self.rowError(row)
            let state = error.sqlState?.rawValue ?? ""
            let sqlState = SQLState(state)
            // A retry that raced its own first attempt: the stored first result is the answer.
            if sqlState == .appendConflict || (sqlState == .uniqueViolation && error.constraint == "commands_pkey") {
                if let recorded = try await recordedResult(of: request.commandId) { return .success(recorded) }
            }
            // The command's own refusal (conflict, malformed, a constraint): final, as alone.
            if sqlState == .appendConflict || state.hasPrefix("GL") || state.hasPrefix("22") || state.hasPrefix("23") {
                return .failure(Self.mapAppendError(error))
            }
            // Anything else (a deadlock with another group, a lock timeout): on its own again.
            return await appendAlone(request)
        } catch let error as EventStoreError {
            return .failure(error)
        } catch {
            return .failure(EventStoreError(.database, "The group append's row could not be read: \(error)."))
        }
    }

    /// `SELECT * FROM ledger.append_group(…)` of the group's commands, in order, binary arrays.
    static func groupStatement(_ group: [(commandId: UUID, arrays: AppendArrays)]) -> SQL {
        let call: SQL =
            "SELECT result, error_state, error_message, error_detail, error_constraint FROM ledger.append_group("
        return (call + groupArguments(group) + ")").prepared()
    }

    /// The eleven arguments of `ledger.append_group` (and of `ledger.append_group_at_once`) for
    /// the group's commands, in order: per-command counts and the commands' arrays concatenated.
    static func groupArguments(_ group: [(commandId: UUID, arrays: AppendArrays)]) -> SQL {
        var commandIds: [UUID] = []
        var streamCounts: [Int32] = []
        var eventCounts: [Int32] = []
        var all = AppendArrays()
        for (commandId, arrays) in group {
            commandIds.append(commandId)
            streamCounts.append(Int32(arrays.streams.count))
            eventCounts.append(Int32(arrays.types.count))
            all.streams += arrays.streams
            all.expected += arrays.expected
            all.eventStreams += arrays.eventStreams
            all.types += arrays.types
            all.schemaVersions += arrays.schemaVersions
            all.data += arrays.data
            all.metadata += arrays.metadata
            all.occurred += arrays.occurred
        }
        return """
            \(bind: PGBinary.uuidArray(commandIds)), \(bind: PGBinary.int4Array(streamCounts)), \
            \(bind: PGBinary.int4Array(eventCounts)), \(bind: PGBinary.textArray(all.streams)), \
            \(bind: PGBinary.int8Array(all.expected)), \(bind: PGBinary.int4Array(all.eventStreams)), \
            \(bind: PGBinary.textArray(all.types)), \(bind: PGBinary.int4Array(all.schemaVersions)), \
            \(bind: PGBinary.jsonbArray(all.data)), \(bind: PGBinary.jsonbArray(all.metadata)), \
            \(bind: PGBinary.timestamptzArray(all.occurred))
            """
    }
}
