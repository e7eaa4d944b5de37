internal import CLibPQ
import Foundation
import Logging
import Synchronization

/// One PostgreSQL session over libpq.
///
/// An actor whose jobs all run on a thread of its own (``ThreadExecutor``): libpq's blocking
/// calls happen there and never on Swift's cooperative pool, and the `PGconn` never leaves it.
/// Cancelling the Swift task that awaits a statement cancels the statement on the server
/// (`PQcancel`). Most code borrows connections from a ``ConnectionPool`` instead of opening one.
public actor Connection {
    private let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The `PGconn *`, `nil` once closed.
    var handle: OpaquePointer?
    var cancelHandle = CancelHandle(nil)
    private let noticeSink: NoticeSink
    /// What this connection was opened with.
    public nonisolated let config: ConnectionConfig
    nonisolated let logger: Logger
    /// The server process serving this session.
    public private(set) var backendPID: Int32 = 0
    /// Statements prepared on this session (``SQL/prepared()``), by text.
    var preparedStatements: [String: String] = [:]

    private init(config: ConnectionConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        self.noticeSink = NoticeSink(logger: logger)
        self.executor = ThreadExecutor(name: "pq-connection")
    }

    isolated deinit {
        if let handle { PQfinish(handle) }
        executor.shutdown()
    }

    /// Opens a session. Fails with ``PQError/Code/connectionFailed`` and a message that names the
    /// (password-free) target and what to check.
    public static func connect(
        _ config: ConnectionConfig,
        logger: Logger = Logger(label: "gigledger.pq")
    ) async throws(PQError) -> Connection {
        let connection = Connection(config: config, logger: logger)
        try await connection.open()
        return connection
    }

    private func open() throws(PQError) {
        let keywords = ["dbname", "application_name", "client_encoding", "connect_timeout"]
        let values = [config.target, config.applicationName, "UTF8", String(config.connectTimeoutSeconds)]
        let conn: OpaquePointer? = withCStrings(keywords) { k in
            withCStrings(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let conn else {
            throw PQError(.connectionFailed, "libpq could not allocate a connection (out of memory).")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let reason = config.scrub(Connection.trimmed(PQerrorMessage(conn)))
            PQfinish(conn)
            throw PQError(
                .connectionFailed,
                "Could not connect to PostgreSQL at \(config): \(reason) — check that the server is running "
                    + "(scripts/db-up starts the local one), and the URL given by --database-url, DATABASE_URL or the PG* variables."
            )
        }
        handle = conn
        backendPID = PQbackendPID(conn)
        cancelHandle = CancelHandle(PQgetCancel(conn))
        PQsetNoticeReceiver(
            conn,
            { arg, result in
                guard let arg, let result else { return }
                let sink = Unmanaged<NoticeSink>.fromOpaque(arg).takeUnretainedValue()
                sink.receive(result)
            }, Unmanaged.passUnretained(noticeSink).toOpaque())
        // Fixed text formats this layer's decoders rely on, whatever the server's defaults.
        try runScript(
            "SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'; "
                + "SET extra_float_digits = 3; SET bytea_output = 'hex'")
        for setting in config.sessionSettings {
            _ = try runQuery("SELECT set_config(\(setting.name), \(setting.value), false)")
        }
    }

    /// Closes the session. Later calls fail with ``PQError/Code/connectionLost``.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// `false` once the session is closed or libpq has seen it break.
    public var isUsable: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK && !noticeSink.sawFatal
    }

    /// Notices a session the server has already closed (restart, `pg_terminate_backend`) before
    /// it is lent out: an idle session should have nothing to read, so readable input is consumed
    /// and libpq marks the connection bad if the server hung up.
    func checkAlive() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        // A terminated backend sends an error and then closes the socket; two rounds of
        // read-and-parse see both (PQconsumeInput fails once it reads the end of the stream).
        for _ in 0..<2 {
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { break }
            if PQconsumeInput(handle) == 0 { return false }
            _ = PQisBusy(handle)
            // Discard stray notifications of a previous borrower.
            while let note = PQnotifies(handle) { PQfreemem(note) }
        }
        return PQstatus(handle) == CONNECTION_OK && !noticeSink.sawFatal
    }

    func isUsableHandle(_ handle: OpaquePointer) -> Bool { PQstatus(handle) == CONNECTION_OK }

    /// Before the pool takes this connection back: rolls back a transaction the borrower left
    /// open, and says whether the session can be lent again (usable and idle). One hop to the
    /// connection's thread instead of one per question.
    func readyForReuse() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK, !noticeSink.sawFatal else { return false }
        if PQtransactionStatus(handle) != PQTRANS_IDLE { rollbackQuietly() }
        return PQstatus(handle) == CONNECTION_OK && !noticeSink.sawFatal
            && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// `true` when the session is idle outside any transaction.
    public var isIdle: Bool {
        guard let handle else { return false }
        return PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    // MARK: - Statements

    /// Runs one statement with its bound values and returns its rows.
    @discardableResult
    public func query(_ sql: SQL) async throws(PQError) -> QueryResult {
        try await cancellable { () throws(PQError) in try runQuery(sql) }
    }

    /// Runs one statement and returns the number of rows it affected, if its command reports one.
    @discardableResult
    public func execute(_ sql: SQL) async throws(PQError) -> Int? {
        try await query(sql).affectedRows
    }

    /// Runs text holding several statements in one round trip (simple protocol; no binds).
    /// For migration files and fixed scripts, never for text that contains input.
    public func executeScript(_ text: String) async throws(PQError) {
        try await cancellable { () throws(PQError) in try runScript(text) }
    }

    /// Runs `body` with task cancellation mapped to a server-side cancel of the running statement.
    func cancellable<R>(_ body: () throws(PQError) -> R) async throws(PQError) -> R {
        if Task.isCancelled { throw PQError(.cancelled, "The task was cancelled before the statement was sent.") }
        let handle = cancelHandle
        let ticket = handle.begin()
        let outcome: Result<R, PQError> = await withTaskCancellationHandler {
            // Calling an isolated method of `self` (without `await`) makes this closure
            // actor-isolated, so the compiler guarantees `body` runs on this connection's
            // thread. A closure that does not use `self` would be nonisolated (SE-0420) and
            // run its blocking libpq calls on the cooperative pool.
            self.runOnOwnThread(body)
        } onCancel: {
            handle.requestCancel(ticket)
        }
        let cancelRequested = handle.end()
        switch outcome {
        case .success(let value): return value
        case .failure(let error):
            if cancelRequested, error.sqlState == .queryCanceled {
                throw PQError(
                    .cancelled, "The statement was cancelled because its task was cancelled.", server: error.server,
                    query: error.query)
            }
            throw error
        }
    }

    private func runOnOwnThread<R>(_ body: () throws(PQError) -> R) -> Result<R, PQError> {
        do throws(PQError) { return .success(try body()) } catch { return .failure(error) }
    }

    func liveHandle() throws(PQError) -> OpaquePointer {
        assert(executor.isCurrentThread, "libpq must only be called on the connection's own thread")
        guard let handle else {
            throw PQError(.connectionLost, "The connection is closed; borrow a new one from the pool.")
        }
        return handle
    }

    func runQuery(_ sql: SQL) throws(PQError) -> QueryResult {
        let conn = try liveHandle()
        if sql.isPrepared {
            let name = try preparedName(for: sql)
            let result = try withParameters(sql) { count, _, values, lengths, formats in
                PQexecPrepared(conn, name, count, values, lengths, formats, 0)
            }
            return try consume(result, sql: sql.text)
        }
        let result = try withParameters(sql) { count, types, values, lengths, formats in
            PQexecParams(conn, sql.text, count, types, values, lengths, formats, 0)
        }
        return try consume(result, sql: sql.text)
    }

    /// The name under which `sql` is prepared on this session, preparing it on first use (one
    /// round trip, once per session and statement text).
    func preparedName(for sql: SQL) throws(PQError) -> String {
        if let name = preparedStatements[sql.text] { return name }
        let conn = try liveHandle()
        let name = "gl_\(preparedStatements.count + 1)"
        let types = sql.binds.map(\.type.rawValue)
        let result = types.withUnsafeBufferPointer { typeBuffer in
            PQprepare(conn, name, sql.text, Int32(types.count), typeBuffer.baseAddress)
        }
        _ = try consume(result, sql: sql.text)
        preparedStatements[sql.text] = name
        return name
    }

    func runScript(_ text: String) throws(PQError) {
        let conn = try liveHandle()
        // PQexec returns the last statement's result; earlier errors stop the script there.
        let result = PQexec(conn, text)
        _ = try consume(result, sql: text)
    }

    /// Calls `body` with libpq's parameter arrays for `sql`'s binds: count, types, values,
    /// lengths and formats (1 for a bind given in binary, 0 for text).
    func withParameters<R>(
        _ sql: SQL,
        _ body: (
            Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) -> R
    ) throws(PQError) -> R {
        for (index, bind) in sql.binds.enumerated() where bind.binary == nil && bind.text?.utf8.contains(0) == true {
            throw PQError(
                .invalidParameter,
                "Parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot store; remove it or send the value as bytea.",
                query: sql.text)
        }
        var lengths: [Int32] = []
        var formats: [Int32] = []
        lengths.reserveCapacity(sql.binds.count)
        formats.reserveCapacity(sql.binds.count)
        let copies: [UnsafeMutablePointer<CChar>?] = sql.binds.map { bind in
            if let binary = bind.binary {
                lengths.append(Int32(binary.count))
                formats.append(1)
                let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, binary.count))
                binary.withUnsafeBufferPointer { source in
                    if let base = source.baseAddress {
                        UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: binary.count)
                    }
                }
                return copy
            }
            lengths.append(0)
            formats.append(0)
            return bind.text.map { strdup($0) }
        }
        defer {
            for (copy, bind) in zip(copies, sql.binds) {
                if bind.binary != nil { copy?.deallocate() } else { free(copy) }
            }
        }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let types = sql.binds.map(\.type.rawValue)
        return types.withUnsafeBufferPointer { typeBuffer in
            pointers.withUnsafeBufferPointer { valueBuffer in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    formats.withUnsafeBufferPointer { formatBuffer in
                        body(
                            Int32(sql.binds.count), typeBuffer.baseAddress, valueBuffer.baseAddress,
                            lengthBuffer.baseAddress, formatBuffer.baseAddress)
                    }
                }
            }
        }
    }

    /// Turns a `PGresult` into rows or a typed error, and frees it.
    func consume(_ result: OpaquePointer?, sql: String) throws(PQError) -> QueryResult {
        guard let result else { throw lostOrFailed(query: sql) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return Connection.rows(of: result)
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return QueryResult(layout: ColumnLayout([]), rows: [], affectedRows: Connection.affectedRows(result))
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
            throw serverError(result, query: sql)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            drainAfterUnexpectedCopy()
            throw PQError(
                .protocolViolation, "The statement started a COPY; run it with copyIn or copyOut instead.", query: sql)
        default:
            throw PQError(
                .protocolViolation,
                "libpq returned the unexpected result status \(String(cString: PQresStatus(status))).", query: sql)
        }
    }

    static func rows(of result: OpaquePointer) -> QueryResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [Column] = []
        columns.reserveCapacity(columnCount)
        for c in 0..<columnCount {
            let name = PQfname(result, Int32(c)).map { String(cString: $0) } ?? "?column?"
            columns.append(Column(name: name, type: PGType(rawValue: PQftype(result, Int32(c)))))
        }
        let layout = ColumnLayout(columns)
        var rows: [Row] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for c in 0..<Int32(columnCount) {
                if PQgetisnull(result, r, c) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, r, c))
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, r, c), count: length)
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            rows.append(Row(layout: layout, values: values))
        }
        return QueryResult(layout: layout, rows: rows, affectedRows: affectedRows(result))
    }

    static func affectedRows(_ result: OpaquePointer) -> Int? {
        guard let text = PQcmdTuples(result) else { return nil }
        return Int(String(cString: text))
    }

    func serverError(_ result: OpaquePointer, query: String?) -> PQError {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let value = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: value)
        }
        guard let state = field("C") else {
            // Client-side failure (no SQLSTATE): almost always the connection broke.
            return lostOrFailed(query: query, reason: field("M") ?? Connection.trimmed(PQresultErrorMessage(result)))
        }
        let fields = ServerErrorFields(
            sqlState: SQLState(state), severity: field("V") ?? field("S") ?? "ERROR",
            message: field("M") ?? "unknown error", detail: field("D"), hint: field("H"),
            constraint: field("n"), schema: field("s"), table: field("t"), column: field("c"),
            dataType: field("d"), context: field("W"))
        let code: PQError.Code = fields.sqlState.meansConnectionLost ? .connectionLost : .server
        return PQError(
            code, "PostgreSQL rejected the statement: \(config.scrub(fields.message)).", server: fields, query: query)
    }

    func lostOrFailed(query: String?, reason: String? = nil) -> PQError {
        let libpqMessage = handle.map { Connection.trimmed(PQerrorMessage($0)) } ?? "connection closed"
        let text = config.scrub(reason ?? libpqMessage)
        // libpq may still say CONNECTION_OK right after the server closed the socket (seen in
        // pipeline mode during a server restart); reading what is pending tells the truth.
        if let handle, PQstatus(handle) == CONNECTION_OK, PQconsumeInput(handle) == 1, PQstatus(handle) == CONNECTION_OK
        {
            return PQError(
                .protocolViolation, "libpq reported an error without a server error code: \(text).", query: query)
        }
        return PQError(
            .connectionLost,
            "The connection to PostgreSQL was lost (\(text)). The statement may or may not have taken effect; "
                + "retry it on a new connection only if it is idempotent.",
            query: query)
    }

    /// After a statement unexpectedly entered COPY mode, ends the COPY so the session stays usable.
    func drainAfterUnexpectedCopy() {
        guard let conn = handle else { return }
        _ = PQputCopyEnd(conn, "statement run outside copyIn/copyOut")
        while let extra = PQgetResult(conn) {
            let status = PQresultStatus(extra)
            PQclear(extra)
            if status == PGRES_COPY_OUT {
                var buffer: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(conn, &buffer, 0) > 0 { PQfreemem(buffer) }
            }
        }
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n\t", with: " ").replacingOccurrences(of: "\n", with: "; ")
            .replacingOccurrences(of: "\t", with: " ")
    }
}

/// Receives the server's NOTICE/WARNING messages and logs them at debug level, instead of libpq
/// printing them to the process's stderr.
///
/// It also remembers a FATAL message: libpq hands the server's "terminating connection" error to
/// the notice receiver when it arrives on an idle session, before the socket is closed.
final class NoticeSink: Sendable {
    let logger: Logger
    private let fatal = Mutex(false)
    init(logger: Logger) { self.logger = logger }

    /// `true` once the server announced it is ending this session.
    var sawFatal: Bool { fatal.withLock { $0 } }

    func receive(_ result: OpaquePointer) {
        let text = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) } ?? ""
        let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))).map { String(cString: $0) } ?? ""
        if severity == "FATAL" || severity == "PANIC" { fatal.withLock { $0 = true } }
        logger.debug("postgres notice", metadata: ["pq.notice": "\(text)", "pq.severity": "\(severity)"])
    }
}

/// Calls `body` with a NULL-terminated-array-free list of C strings (libpq takes counts or
/// NULL-terminated keyword arrays; this adds the terminating NULL).
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { buffer in
        // Never empty: it holds at least the terminating NULL.
        body(buffer.baseAddress.unsafelyUnwrapped)
    }
}
