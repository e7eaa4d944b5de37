/// One value bound to a `$n` placeholder, in PostgreSQL's text format or, for values whose text
/// costs (arrays of JSON, built by ``PGBinary``), in its binary format.
public struct PGBind: Sendable, Hashable {
    /// `nil` is SQL `NULL` (unless ``binary`` is set).
    public var text: String?
    /// The parameter's type; ``PGType/unspecified`` lets the server infer it.
    public var type: PGType
    /// The value in PostgreSQL's binary format for `type`; when set, `text` is ignored.
    public var binary: [UInt8]?
    /// A bind of `text` (`nil` for `NULL`) typed `type`.
    public init(text: String?, type: PGType) {
        self.text = text
        self.type = type
        self.binary = nil
    }
    /// A value already in PostgreSQL's binary format for `type` (see ``PGBinary``).
    public init(binary: [UInt8], type: PGType) {
        self.text = nil
        self.type = type
        self.binary = binary
    }
}

extension PGBind {
    /// A one-dimensional array of values already in text form, where elements may be `NULL`.
    public static func array(_ elements: [String?], type: PGType) -> PGBind {
        PGBind(text: PGArrayText.encode(elements), type: type)
    }
}

/// A statement and its bound values.
///
/// Built by string interpolation: every interpolated value becomes a `$n` parameter, so input is
/// never spliced into SQL text.
///
/// ```swift
/// let rows = try await conn.query("SELECT name FROM gigs WHERE id = \(gigID) AND budget > \(min)")
/// ```
///
/// Text that must be spliced (an identifier chosen by code, never by input) goes through
/// `\(identifier:)` which quotes it, or the deliberately named `\(unsafeRaw:)`.
public struct SQL: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The statement text with `$1`, `$2`, … placeholders.
    public private(set) var text: String
    /// The bound values, `binds[0]` for `$1`.
    public private(set) var binds: [PGBind]
    /// Prepared once per connection (by its text) and then sent by name: for hot statements
    /// whose planning and parsing would otherwise repeat on every call (see ``prepared()``).
    public private(set) var isPrepared = false

    /// A statement with no parameters.
    public init(stringLiteral value: String) {
        text = value
        binds = []
    }

    /// A statement built by interpolation: each interpolated value became a `$n` placeholder and a
    /// bind.
    public init(stringInterpolation: StringInterpolation) {
        text = stringInterpolation.text
        binds = stringInterpolation.binds
    }

    /// A statement whose text was assembled by the caller, with explicit binds. The caller
    /// promises `text` holds no input; use interpolation instead wherever possible.
    public init(unsafeText text: String, binds: [PGBind] = []) {
        self.text = text
        self.binds = binds
    }

    /// Appends `other`, renumbering its placeholders after this statement's binds.
    public mutating func append(_ other: SQL) {
        if binds.isEmpty {
            text += other.text
        } else {
            text += SQL.renumber(other.text, offset: binds.count)
        }
        binds += other.binds
    }

    /// The two statements joined, the right one's placeholders renumbered after the left one's.
    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var copy = lhs
        copy.append(rhs)
        return copy
    }

    /// This statement, prepared on each connection the first time it runs there and then sent
    /// with `PQsendQueryPrepared` (the parameter types must not change between calls).
    public func prepared() -> SQL {
        var copy = self
        copy.isPrepared = true
        return copy
    }

    /// The statement text with placeholders (never the values): safe to log.
    public var description: String { text }

    /// Shifts `$n` placeholders by `offset`, leaving quoted text alone.
    static func renumber(_ text: String, offset: Int) -> String {
        var out = ""
        out.reserveCapacity(text.count + 8)
        var chars = Array(text)[...]
        var quote: Character?
        while let c = chars.popFirst() {
            if let q = quote {
                out.append(c)
                if c == q { quote = nil }
                continue
            }
            if c == "'" || c == "\"" {
                quote = c
                out.append(c)
                continue
            }
            if c == "$", let first = chars.first, first.isASCII, first.isNumber {
                var digits = ""
                while let d = chars.first, d.isASCII, d.isNumber {
                    digits.append(d)
                    chars = chars.dropFirst()
                }
                out += "$\((Int(digits) ?? 0) + offset)"
                continue
            }
            out.append(c)
        }
        return out
    }

    /// Collects the statement text and its binds while a `SQL` literal is interpolated.
    public struct StringInterpolation: StringInterpolationProtocol {
        var text = ""
        var binds: [PGBind] = []

        /// Reserves room for the literal text and the binds.
        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds.reserveCapacity(interpolationCount)
        }

        /// Appends literal text as it is.
        public mutating func appendLiteral(_ literal: String) { text += literal }

        /// A bound value: becomes `$n`.
        public mutating func appendInterpolation<Value: PGEncodable>(_ value: Value) {
            binds.append(PGBind(text: value.pgText, type: Value.pgType))
            text += "$\(binds.count)"
        }

        /// A bound value that may be `NULL`.
        public mutating func appendInterpolation<Value: PGEncodable>(_ value: Value?) {
            binds.append(PGBind(text: value?.pgText, type: Value.pgType))
            text += "$\(binds.count)"
        }

        /// A prepared bind (for example ``PGBind/array(_:type:)``).
        public mutating func appendInterpolation(bind: PGBind) {
            binds.append(bind)
            text += "$\(binds.count)"
        }

        /// A nested statement; its placeholders are renumbered.
        public mutating func appendInterpolation(_ fragment: SQL) {
            text += binds.isEmpty ? fragment.text : SQL.renumber(fragment.text, offset: binds.count)
            binds += fragment.binds
        }

        /// An identifier (table, schema, channel), double-quoted so it can never end the token.
        public mutating func appendInterpolation(identifier: String) {
            text += "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }

        /// Raw SQL text. Only for text chosen by code, never for input.
        public mutating func appendInterpolation(unsafeRaw raw: String) { text += raw }
    }
}
