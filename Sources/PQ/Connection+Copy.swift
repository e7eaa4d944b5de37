internal import CLibPQ
import Foundation

/// Writes rows into a running `COPY … FROM STDIN`. Only valid inside ``Connection/copyIn(_:_:)``.
public struct CopyWriter: ~Copyable {
    let connection: OpaquePointer
    var bytesSent = 0

    /// Sends one chunk of COPY data (one or more whole or partial lines in the COPY's format).
    public mutating func write(_ bytes: some ContiguousBytes) throws(PQError) {
        let status: Int32 = bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return 1 }
            bytesSent += raw.count
            return PQputCopyData(connection, base.assumingMemoryBound(to: CChar.self), Int32(raw.count))
        }
        guard status == 1 else {
            throw PQError(
                .connectionLost, "Sending COPY data failed: \(Connection.trimmed(PQerrorMessage(connection))).")
        }
    }

    /// Sends a string (UTF-8) of COPY data.
    public mutating func write(_ text: String) throws(PQError) {
        try write(Array(text.utf8))
    }
}

extension Connection {
    /// Streams data into `COPY … FROM STDIN`: `produce` writes chunks as it makes them, so nothing
    /// is held in memory beyond one chunk. Returns the number of rows copied. If `produce` throws,
    /// the COPY is aborted and nothing is stored.
    @discardableResult
    public func copyIn(_ sql: SQL, _ produce: (inout CopyWriter) throws -> Void) async throws -> Int {
        guard sql.binds.isEmpty else {
            throw PQError(
                .invalidParameter, "COPY takes no bound parameters; send values as COPY data.", query: sql.text)
        }
        return try await cancellable { () throws(PQError) -> Int in
            let conn = try liveHandle()
            try startCopy(conn, sql.text, expecting: PGRES_COPY_IN)
            var writer = CopyWriter(connection: conn)
            var failure: (any Error)?
            do { try produce(&writer) } catch { failure = error }
            let endStatus: Int32 =
                if let failure {
                    PQputCopyEnd(conn, "aborted by the client: \(String(describing: failure).prefix(200))")
                } else {
                    PQputCopyEnd(conn, nil)
                }
            guard endStatus == 1 else { throw lostOrFailed(query: sql.text) }
            let result = try finishCopy(conn, sql.text)
            if let failure {
                throw PQError(
                    .invalidParameter, "COPY was aborted because the producer failed: \(failure).", query: sql.text)
            }
            return result
        }
    }

    /// Streams the output of `COPY … TO STDOUT`: `consume` receives one row (one line of COPY
    /// text, with its newline) at a time, straight from libpq's buffer. Returns the row count.
    @discardableResult
    public func copyOut(_ sql: SQL, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        guard sql.binds.isEmpty else {
            throw PQError(
                .invalidParameter, "COPY takes no bound parameters; put values in a view or a WHERE on a temp table.",
                query: sql.text)
        }
        return try await cancellable { () throws(PQError) -> Int in
            let conn = try liveHandle()
            try startCopy(conn, sql.text, expecting: PGRES_COPY_OUT)
            var consumerError: (any Error)?
            while true {
                var buffer: UnsafeMutablePointer<CChar>?
                let length = PQgetCopyData(conn, &buffer, 0)
                if length > 0, let buffer {
                    if consumerError == nil {
                        do { try consume(UnsafeRawBufferPointer(start: buffer, count: Int(length))) } catch {
                            consumerError = error
                            // Stop the server sending more; the rest is drained below.
                            _ = PQrequestCancel(conn)
                        }
                    }
                    PQfreemem(buffer)
                } else if length == -1 {
                    break
                } else {
                    throw lostOrFailed(query: sql.text)
                }
            }
            if let consumerError {
                while let extra = PQgetResult(conn) { PQclear(extra) }
                throw PQError(
                    .invalidParameter, "COPY output was abandoned because the consumer failed: \(consumerError).",
                    query: sql.text)
            }
            return try finishCopy(conn, sql.text)
        }
    }

    private func startCopy(_ conn: OpaquePointer, _ text: String, expecting: ExecStatusType) throws(PQError) {
        guard let result = PQexec(conn, text) else { throw lostOrFailed(query: text) }
        let status = PQresultStatus(result)
        if status == expecting {
            PQclear(result)
            return
        }
        defer { PQclear(result) }
        if status == PGRES_FATAL_ERROR { throw serverError(result, query: text) }
        throw PQError(.protocolViolation, "The statement is not a COPY in the expected direction.", query: text)
    }

    private func finishCopy(_ conn: OpaquePointer, _ text: String) throws(PQError) -> Int {
        var rows = 0
        var firstError: PQError?
        while let result = PQgetResult(conn) {
            if PQresultStatus(result) == PGRES_FATAL_ERROR, firstError == nil {
                firstError = serverError(result, query: text)
            } else if let count = Connection.affectedRows(result) {
                rows = count
            }
            PQclear(result)
        }
        if let firstError { throw firstError }
        return rows
    }
}
