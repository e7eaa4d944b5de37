/// A five-character PostgreSQL error code (SQLSTATE).
///
/// Code reacts to these constants, never to the server's message text, which is localised and
/// may change between versions.
public struct SQLState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// The two-character class (`"23"` for integrity violations, `"08"` for connection errors).
    public var errorClass: Substring { rawValue.prefix(2) }
    public var description: String { rawValue }

    // Integrity constraints (class 23).
    /// `23505` unique_violation: a row duplicates a unique key (the error's constraint names
    /// which).
    public static let uniqueViolation = SQLState("23505")
    /// `23503` foreign_key_violation: a referenced row does not exist, or is still referenced.
    public static let foreignKeyViolation = SQLState("23503")
    /// `23514` check_violation: a `CHECK` constraint refused the row.
    public static let checkViolation = SQLState("23514")
    /// `23502` not_null_violation: a `NOT NULL` column got `NULL`.
    public static let notNullViolation = SQLState("23502")
    // Transactions (class 40).
    /// `40001` serialization_failure: a concurrent transaction made this one's snapshot invalid;
    /// run it again.
    public static let serializationFailure = SQLState("40001")
    /// `40P01` deadlock_detected: this transaction was chosen to break a lock cycle; run it again.
    public static let deadlockDetected = SQLState("40P01")
    // Operator intervention (class 57).
    /// `57014` query_canceled: a statement timeout or a cancel request stopped the statement.
    public static let queryCanceled = SQLState("57014")
    /// `57P01` admin_shutdown: the server is shutting down or an operator ended the session.
    public static let adminShutdown = SQLState("57P01")
    /// `57P02` crash_shutdown: the server is restarting after another process crashed.
    public static let crashShutdown = SQLState("57P02")
    /// `57P03` cannot_connect_now: the server is starting up or in recovery.
    public static let cannotConnectNow = SQLState("57P03")
    // Access and authentication.
    /// `42501` insufficient_privilege: the role may not do this.
    public static let insufficientPrivilege = SQLState("42501")
    /// `28P01` invalid_password: authentication failed.
    public static let invalidPassword = SQLState("28P01")
    /// `28000` invalid_authorization_specification: the role may not connect (for example
    /// `pg_hba.conf` rejects it).
    public static let invalidAuthorization = SQLState("28000")
    /// `3D000` invalid_catalog_name: the database named in the connection does not exist.
    public static let invalidCatalogName = SQLState("3D000")
    /// A schema named in the statement (e.g. `ledger`) does not exist.
    public static let invalidSchemaName = SQLState("3F000")
    // Objects and syntax.
    /// `42P01` undefined_table: a table or view named in the statement does not exist.
    public static let undefinedTable = SQLState("42P01")
    /// `42883` undefined_function: no function matches the name and argument types.
    public static let undefinedFunction = SQLState("42883")
    /// `42710` duplicate_object: the object (role, constraint, type, …) already exists.
    public static let duplicateObject = SQLState("42710")
    /// `42P04` duplicate_database: `CREATE DATABASE` named an existing database.
    public static let duplicateDatabase = SQLState("42P04")
    /// `42601` syntax_error.
    public static let syntaxError = SQLState("42601")
    /// `55P03` lock_not_available: a lock could not be taken (`NOWAIT`, or `lock_timeout` ran out).
    public static let lockNotAvailable = SQLState("55P03")
    /// `55006` object_in_use: the object is in use by other sessions (`DROP DATABASE` with
    /// connections open).
    public static let objectInUse = SQLState("55006")
    /// `DROP … RESTRICT` refused because other objects (e.g. someone's view) depend on it.
    public static let dependentObjectsStillExist = SQLState("2BP01")
    /// `RAISE EXCEPTION` without an explicit code.
    public static let raiseException = SQLState("P0001")
    /// `22P02` invalid_text_representation: a value's text does not parse as its type.
    public static let invalidTextRepresentation = SQLState("22P02")
    /// `22003` numeric_value_out_of_range.
    public static let numericValueOutOfRange = SQLState("22003")
    /// `22001` string_data_right_truncation: a value is longer than its column allows.
    public static let stringDataRightTruncation = SQLState("22001")

    // GigLedger's own codes (class GL), raised by `sql/0001_event_log.sql`; a test checks each
    // against the migration text.
    /// `ledger.append`: a stream is not at the version the append expected. The error's detail is
    /// JSON `{"stream", "expected", "actual"}`; nothing was stored.
    public static let appendConflict = SQLState("GL409")
    /// `ledger.append`: malformed arguments (event type, schema version, data that is not a JSON
    /// object, streams out of order); nothing was stored.
    public static let appendRejected = SQLState("GL422")
    /// The log's triggers refused an UPDATE, DELETE or TRUNCATE: the log is append-only.
    public static let appendOnlyViolation = SQLState("GL403")
    /// `privacy.forget` (`sql/0013_privacy.sql`): the data subject to forget was never registered
    /// (neither its stream nor an earlier erasure exists); nothing was done.
    public static let subjectNotFound = SQLState("GL404")
    /// `privacy.store_subject_key` (`sql/0014_subject_key_in_append.sql`): the data subject was
    /// forgotten, so no data key is made for it again; the append it ran in stored nothing.
    public static let subjectForgotten = SQLState("GL410")
    /// `privacy.store_subject_key`: the data subject has another data key already (a concurrent
    /// writer stored its own first); the append it ran in stored nothing. The detail is the subject.
    public static let subjectKeyTaken = SQLState("GL412")

    /// Codes after which the same transaction may succeed when simply run again.
    public var isTransient: Bool {
        self == .serializationFailure || self == .deadlockDetected
    }

    /// Codes that mean the server side of the connection is gone or going away.
    public var meansConnectionLost: Bool {
        errorClass == "08" || self == .adminShutdown || self == .crashShutdown || self == .cannotConnectNow
    }
}
