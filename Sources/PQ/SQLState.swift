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
    public static let uniqueViolation = SQLState("23505")
    public static let foreignKeyViolation = SQLState("23503")
    public static let checkViolation = SQLState("23514")
    public static let notNullViolation = SQLState("23502")
    // Transactions (class 40).
    public static let serializationFailure = SQLState("40001")
    public static let deadlockDetected = SQLState("40P01")
    // Operator intervention (class 57).
    public static let queryCanceled = SQLState("57014")
    public static let adminShutdown = SQLState("57P01")
    public static let crashShutdown = SQLState("57P02")
    public static let cannotConnectNow = SQLState("57P03")
    // Access and authentication.
    public static let insufficientPrivilege = SQLState("42501")
    public static let invalidPassword = SQLState("28P01")
    public static let invalidAuthorization = SQLState("28000")
    public static let invalidCatalogName = SQLState("3D000")
    /// A schema named in the statement (e.g. `ledger`) does not exist.
    public static let invalidSchemaName = SQLState("3F000")
    // Objects and syntax.
    public static let undefinedTable = SQLState("42P01")
    public static let undefinedFunction = SQLState("42883")
    public static let duplicateObject = SQLState("42710")
    public static let duplicateDatabase = SQLState("42P04")
    public static let syntaxError = SQLState("42601")
    public static let lockNotAvailable = SQLState("55P03")
    public static let objectInUse = SQLState("55006")
    /// `DROP … RESTRICT` refused because other objects (e.g. someone's view) depend on it.
    public static let dependentObjectsStillExist = SQLState("2BP01")
    /// `RAISE EXCEPTION` without an explicit code.
    public static let raiseException = SQLState("P0001")
    public static let invalidTextRepresentation = SQLState("22P02")
    public static let numericValueOutOfRange = SQLState("22003")
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

    /// Codes after which the same transaction may succeed when simply run again.
    public var isTransient: Bool {
        self == .serializationFailure || self == .deadlockDetected
    }

    /// Codes that mean the server side of the connection is gone or going away.
    public var meansConnectionLost: Bool {
        errorClass == "08" || self == .adminShutdown || self == .crashShutdown || self == .cannotConnectNow
    }
}
