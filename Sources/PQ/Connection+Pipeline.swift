internal import CLibPQ

/// How a pipeline groups its statements into transactions.
public enum PipelineMode: Sendable {
    /// All statements run in one implicit transaction: the first failure rolls back everything
    /// and the statements after it are skipped.
    case oneTransaction
    /// Each statement is its own implicit transaction: a failure affects only that statement.
    case eachOwnTransaction
}

extension Connection {
    /// Sends many statements in one round trip (libpq pipeline mode) and returns one outcome per
    /// statement, in order. Statements skipped after an earlier failure in the same transaction
    /// report ``PQError/Code/server`` with the message "skipped".
    ///
    /// The connection stays in blocking mode: all statements are sent before any result is read,
    /// so keep a pipeline to what fits the socket buffers (hundreds of small statements, not
    /// megabytes of results), or the server and this client could wait on each other.
    public func pipeline(_ statements: [SQL], mode: PipelineMode = .oneTransaction) async throws(PQError) -> [Result<
        QueryResult, PQError
    >] {
        if statements.isEmpty { return [] }
        return try await cancellable { () throws(PQError) in try runPipeline(statements, mode: mode) }
    }

    private func runPipeline(_ statements: [SQL], mode: PipelineMode) throws(PQError) -> [Result<QueryResult, PQError>]
    {
        let conn = try liveHandle()
        // Statements to prepare are prepared first, outside the pipeline (once per session).
        var names: [String?] = []
        for statement in statements {
            names.append(statement.isPrepared ? try preparedName(for: statement) : nil)
        }
        guard PQenterPipelineMode(conn) == 1 else {
            throw PQError(
                .protocolViolation, "Could not enter pipeline mode (is a statement still running on this connection?).")
        }
        defer { _ = PQexitPipelineMode(conn) }
        for (statement, name) in zip(statements, names) {
            let sent = try withParameters(statement) { count, types, values, lengths, formats in
                if let name {
                    PQsendQueryPrepared(conn, name, count, values, lengths, formats, 0)
                } else {
                    PQsendQueryParams(conn, statement.text, count, types, values, lengths, formats, 0)
                }
            }
            guard sent == 1 else { throw lostOrFailed(query: statement.text) }
            if mode == .eachOwnTransaction, PQpipelineSync(conn) != 1 { throw lostOrFailed(query: statement.text) }
        }
        if mode == .oneTransaction, PQpipelineSync(conn) != 1 { throw lostOrFailed(query: nil) }

        var outcomes: [Result<QueryResult, PQError>] = []
        outcomes.reserveCapacity(statements.count)
        var index = 0
        var syncsPending = mode == .oneTransaction ? 1 : statements.count
        while syncsPending > 0 {
            guard let result = PQgetResult(conn) else {
                // End of one statement's results; the next call starts the next one.
                if PQstatus(conn) != CONNECTION_OK { throw lostOrFailed(query: nil) }
                continue
            }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC {
                PQclear(result)
                syncsPending -= 1
                continue
            }
            let text = index < statements.count ? statements[index].text : ""
            if status == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                outcomes.append(
                    .failure(
                        PQError(
                            .server, "skipped: an earlier statement in the same pipeline transaction failed.",
                            query: text)))
            } else {
                do throws(PQError) { outcomes.append(.success(try consume(result, sql: text))) } catch {
                    outcomes.append(.failure(error))
                }
            }
            index += 1
        }
        return outcomes
    }
}
