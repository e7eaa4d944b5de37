internal import CLibPQ

/// How a pipeline groups its statements into transactions.
public enum PipelineMode: Sendable {
    /// All statements run in one implicit transaction: the first failure rolls back everything
    /// and the statements after it are skipped.
    case oneTransaction
    /// Each statement is its own implicit transaction: a failure affects only that statement.
    case eachOwnTransaction
    /// Consecutive runs of statements, each run one implicit transaction: `sizes` are the runs'
    /// lengths in order and add up to the number of statements. A failure rolls back its run
    /// only; the run's later statements are skipped, later runs go ahead.
    case transactions(sizes: [Int])
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
        // Index of the last statement of each implicit transaction (a sync follows it).
        let ends: Set<Int>
        switch mode {
        case .oneTransaction: ends = [statements.count - 1]
        case .eachOwnTransaction: ends = Set(statements.indices)
        case .transactions(let sizes):
            guard sizes.allSatisfy({ $0 > 0 }), sizes.reduce(0, +) == statements.count else {
                throw PQError(
                    .invalidParameter,
                    "A pipeline's transaction sizes \(sizes) must be positive and add up to its \(statements.count) statements."
                )
            }
            var end = -1
            ends = Set(
                sizes.map { size in
                    end += size
                    return end
                })
        }
        guard PQenterPipelineMode(conn) == 1 else {
            throw PQError(
                .protocolViolation, "Could not enter pipeline mode (is a statement still running on this connection?).")
        }
        defer { _ = PQexitPipelineMode(conn) }
        for (index, (statement, name)) in zip(statements, names).enumerated() {
            let sent = try withParameters(statement) { count, types, values, lengths, formats in
                if let name {
                    PQsendQueryPrepared(conn, name, count, values, lengths, formats, 0)
                } else {
                    PQsendQueryParams(conn, statement.text, count, types, values, lengths, formats, 0)
                }
            }
            guard sent == 1 else { throw lostOrFailed(query: statement.text) }
            if ends.contains(index), PQpipelineSync(conn) != 1 { throw lostOrFailed(query: statement.text) }
        }

        var outcomes: [Result<QueryResult, PQError>] = []
        outcomes.reserveCapacity(statements.count)
        var index = 0
        var syncsPending = ends.count
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
