/// A PostgreSQL type OID, as libpq reports it for a result column or takes it for a parameter.
public struct PGType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Let the server infer the parameter's type from the statement.
    public static let unspecified = PGType(rawValue: 0)
    /// `boolean` (OID 16).
    public static let bool = PGType(rawValue: 16)
    /// `bytea` (OID 17).
    public static let bytea = PGType(rawValue: 17)
    /// `name` (OID 19).
    public static let name = PGType(rawValue: 19)
    /// `bigint` (OID 20).
    public static let int8 = PGType(rawValue: 20)
    /// `smallint` (OID 21).
    public static let int2 = PGType(rawValue: 21)
    /// `integer` (OID 23).
    public static let int4 = PGType(rawValue: 23)
    /// `text` (OID 25).
    public static let text = PGType(rawValue: 25)
    /// `oid` (OID 26).
    public static let oid = PGType(rawValue: 26)
    /// `json` (OID 114).
    public static let json = PGType(rawValue: 114)
    /// `real` (OID 700).
    public static let float4 = PGType(rawValue: 700)
    /// `double precision` (OID 701).
    public static let float8 = PGType(rawValue: 701)
    /// `unknown` (OID 705).
    public static let unknown = PGType(rawValue: 705)
    /// `character` (OID 1042).
    public static let bpchar = PGType(rawValue: 1042)
    /// `character varying` (OID 1043).
    public static let varchar = PGType(rawValue: 1043)
    /// `date` (OID 1082).
    public static let date = PGType(rawValue: 1082)
    /// `timestamp` (OID 1114).
    public static let timestamp = PGType(rawValue: 1114)
    /// `timestamptz` (OID 1184).
    public static let timestamptz = PGType(rawValue: 1184)
    /// `interval` (OID 1186).
    public static let interval = PGType(rawValue: 1186)
    /// `numeric` (OID 1700).
    public static let numeric = PGType(rawValue: 1700)
    /// `uuid` (OID 2950).
    public static let uuid = PGType(rawValue: 2950)
    /// `jsonb` (OID 3802).
    public static let jsonb = PGType(rawValue: 3802)
    /// `xid8` (OID 5069).
    public static let xid8 = PGType(rawValue: 5069)
    /// `boolean[]` (OID 1000).
    public static let boolArray = PGType(rawValue: 1000)
    /// `smallint[]` (OID 1005).
    public static let int2Array = PGType(rawValue: 1005)
    /// `integer[]` (OID 1007).
    public static let int4Array = PGType(rawValue: 1007)
    /// `text[]` (OID 1009).
    public static let textArray = PGType(rawValue: 1009)
    /// `character varying[]` (OID 1015).
    public static let varcharArray = PGType(rawValue: 1015)
    /// `bigint[]` (OID 1016).
    public static let int8Array = PGType(rawValue: 1016)
    /// `double precision[]` (OID 1022).
    public static let float8Array = PGType(rawValue: 1022)
    /// `timestamptz[]` (OID 1185).
    public static let timestamptzArray = PGType(rawValue: 1185)
    /// `numeric[]` (OID 1231).
    public static let numericArray = PGType(rawValue: 1231)
    /// `uuid[]` (OID 2951).
    public static let uuidArray = PGType(rawValue: 2951)
    /// `jsonb[]` (OID 3807).
    public static let jsonbArray = PGType(rawValue: 3807)

    static let names: [UInt32: String] = [
        0: "unspecified", 16: "boolean", 17: "bytea", 19: "name", 20: "bigint", 21: "smallint",
        23: "integer", 25: "text", 26: "oid", 114: "json", 700: "real", 701: "double precision",
        705: "unknown", 1042: "character", 1043: "character varying", 1082: "date",
        1114: "timestamp", 1184: "timestamptz", 1186: "interval", 1700: "numeric", 2950: "uuid",
        3802: "jsonb", 5069: "xid8", 1000: "boolean[]", 1005: "smallint[]", 1007: "integer[]",
        1009: "text[]", 1015: "character varying[]", 1016: "bigint[]", 1022: "double precision[]",
        1185: "timestamptz[]", 1231: "numeric[]", 2951: "uuid[]", 3807: "jsonb[]",
    ]

    public var description: String { PGType.names[rawValue] ?? "oid \(rawValue)" }

    /// The array type whose elements are of this type, when this layer knows it.
    public var arrayType: PGType {
        switch self {
        case .bool: .boolArray
        case .int2: .int2Array
        case .int4: .int4Array
        case .int8: .int8Array
        case .text, .unspecified, .unknown: .textArray
        case .varchar: .varcharArray
        case .float8: .float8Array
        case .timestamptz: .timestamptzArray
        case .numeric: .numericArray
        case .uuid: .uuidArray
        case .jsonb: .jsonbArray
        default: .unspecified
        }
    }

    var isInteger: Bool { self == .int2 || self == .int4 || self == .int8 || self == .oid }
    var isTextual: Bool {
        self == .text || self == .varchar || self == .bpchar || self == .name || self == .unknown
    }
}
