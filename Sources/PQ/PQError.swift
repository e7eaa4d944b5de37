/// The fields PostgreSQL reports with an error (libpq's `PQresultErrorField`).
///
/// `detail` may contain row values (for example the duplicate key of a unique violation), so it is
/// kept out of ``PQError/description`` and only shown by ``PQError/debugDescription``.
public struct ServerErrorFields: Sendable, Hashable {
    /// The five-character error code.
    public var sqlState: SQLState
    /// `ERROR`, `FATAL` or `PANIC` (not localised).
    public var severity: String
    /// The server's primary message (localised; never branch on it).
    public var message: String
    /// Secondary detail; may contain row values, so it appears only in
    /// ``PQError/debugDescription``.
    public var detail: String?
    /// The server's suggestion of what to do, if any.
    public var hint: String?
    /// The constraint that was violated, for integrity errors.
    public var constraint: String?
    /// The schema of the object the error is about, if the server names one.
    public var schema: String?
    /// The table the error is about, if the server names one.
    public var table: String?
    /// The column the error is about, if the server names one.
    public var column: String?
    /// The data type the error is about, if the server names one.
    public var dataType: String?
    /// The call stack of PL/pgSQL functions and the like when the error happened.
    public var context: String?

    /// Fields as the server reports them; for tests and for errors built by hand.
    public init(
        sqlState: SQLState, severity: String = "ERROR", message: String, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil, schema: String? = nil, table: String? = nil,
        column: String? = nil, dataType: String? = nil, context: String? = nil
    ) {
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.schema = schema
        self.table = table
        self.column = column
        self.dataType = dataType
        self.context = context
    }
}

/// Every error the PostgreSQL layer throws.
///
/// A struct over a private code enum, so new kinds of failure never break a caller's `switch`.
/// Messages say what went wrong and what to do; they never contain bound values or passwords.
public struct PQError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure: a closed set compared with `==` against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionFailed, connectionLost, server, decoding, invalidParameter, cancelled
            case poolTimeout, poolClosed, protocolViolation, timeout
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// Could not open a connection (bad URL, server down, wrong password, missing database).
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke while in use; the operation's outcome is unknown.
        public static let connectionLost = Code(.connectionLost)
        /// The server rejected the statement; see ``PQError/server``.
        public static let server = Code(.server)
        /// A column could not be decoded into the requested Swift type.
        public static let decoding = Code(.decoding)
        /// A bound value cannot be sent (for example it contains a NUL byte).
        public static let invalidParameter = Code(.invalidParameter)
        /// The Swift task was cancelled; a running statement was cancelled on the server.
        public static let cancelled = Code(.cancelled)
        /// No pooled connection became free in time.
        public static let poolTimeout = Code(.poolTimeout)
        /// The pool was shut down.
        public static let poolClosed = Code(.poolClosed)
        /// libpq answered something this layer did not expect.
        public static let protocolViolation = Code(.protocolViolation)
        /// A wait with a deadline ran out.
        public static let timeout = Code(.timeout)
        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public let code: Code
    /// What went wrong and what to do, for the person who reads it.
    public let message: String
    /// Present when the server reported the error.
    public let server: ServerErrorFields?
    /// The SQL text of the statement (never its bound values), when one was running.
    public let query: String?

    /// Creates an error; `query` is the statement's text (never its values).
    public init(_ code: Code, _ message: String, server: ServerErrorFields? = nil, query: String? = nil) {
        self.code = code
        self.message = message
        self.server = server
        self.query = query
    }

    /// The server's SQLSTATE, when the server reported the error.
    public var sqlState: SQLState? { server?.sqlState }
    /// The violated constraint's name, when the server reported one.
    public var constraint: String? { server?.constraint }

    /// True when the connection that produced this error can no longer be used.
    public var isConnectionLost: Bool {
        code == .connectionLost || code == .connectionFailed || (server?.sqlState.meansConnectionLost ?? false)
    }

    /// True for serialization failures and deadlocks: running the transaction again may succeed.
    public var isTransient: Bool { server?.sqlState.isTransient ?? false }

    public var description: String {
        var text = message
        if let server {
            text += " [SQLSTATE \(server.sqlState.rawValue)"
            if let constraint = server.constraint { text += ", constraint \(constraint)" }
            text += "]"
            if let hint = server.hint { text += " Hint: \(hint)" }
        }
        return text
    }

    public var debugDescription: String {
        var text = description
        if let detail = server?.detail { text += " Detail: \(detail)" }
        if let query { text += " Query: \(query.prefix(500))" }
        return text
    }
}

/// An error type that can carry a ``PQError``: what lets the pool and the transaction helpers
/// throw a body's own typed error (`ConnectionPool.withConnection`, `Connection.withTransaction`)
/// when the failure is theirs (connecting, `BEGIN`, `COMMIT`). Each layer wraps once, with the
/// same mapping it uses everywhere (SQLSTATE and constraint, never message text).
public protocol PQErrorWrapping: Error {
    /// `error` as this type, mapped the way this layer maps database failures everywhere else.
    static func wrapping(_ error: PQError) -> Self
}

extension PQError: PQErrorWrapping {
    /// The error itself.
    public static func wrapping(_ error: PQError) -> PQError { error }
}
