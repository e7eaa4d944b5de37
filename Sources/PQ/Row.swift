/// A result column: its name and type.
public struct Column: Sendable, Hashable {
    /// The column's name as the statement gave it (its alias, if any).
    public let name: String
    /// The column's type OID as the server reported it.
    public let type: PGType
}

/// The column layout shared by every row of one result.
public final class ColumnLayout: Sendable {
    /// The columns, in result order.
    public let columns: [Column]
    let indexByName: [String: Int]
    init(_ columns: [Column]) {
        self.columns = columns
        var index: [String: Int] = [:]
        for (i, column) in columns.enumerated() where index[column.name] == nil { index[column.name] = i }
        indexByName = index
    }

    /// The position of the column named `name` (the first, if several share it): looked up once
    /// to decode many rows by index with ``Row/decode(_:at:)``.
    ///
    /// - Throws: ``PQError`` (`.decoding`) naming the columns the result has.
    public func index(of name: String) throws(PQError) -> Int {
        guard let index = indexByName[name] else {
            let known = columns.map(\.name).joined(separator: ", ")
            throw PQError(.decoding, "The result has no column \"\(name)\" (it has: \(known)).")
        }
        return index
    }
}

/// One row of a result, in text format. Decode its cells with ``decode(_:at:)`` or
/// ``decode(_:_:)``; errors name the column, the column's type and the Swift type asked for.
public struct Row: Sendable {
    /// The result's columns, shared by all its rows.
    public let layout: ColumnLayout
    /// The cells in PostgreSQL's text format, in column order; `nil` is SQL `NULL`.
    public let values: [String?]

    /// A row of `values` laid out by `layout`.
    package init(layout: ColumnLayout, values: [String?]) {
        self.layout = layout
        self.values = values
    }

    /// The result's columns, in order.
    public var columns: [Column] { layout.columns }

    /// Decodes the cell at `index`.
    public func decode<T: PGDecodable>(_ type: T.Type = T.self, at index: Int) throws(PQError) -> T {
        guard index >= 0, index < values.count else {
            throw PQError(.decoding, "The result has \(values.count) columns; there is no column at index \(index).")
        }
        let column = layout.columns[index]
        do {
            return try T.pgDecode(values[index], type: column.type)
        } catch {
            throw Row.describe(error, column: column, swiftType: T.self)
        }
    }

    /// Decodes the cell of the column named `name`.
    public func decode<T: PGDecodable>(_ type: T.Type = T.self, _ name: String) throws(PQError) -> T {
        try decode(T.self, at: try layout.index(of: name))
    }

    /// `true` if the cell at `index` is SQL `NULL`.
    public func isNull(at index: Int) -> Bool { index < values.count && values[index] == nil }

    static func describe(_ failure: PGDecodingFailure, column: Column, swiftType: Any.Type) -> PQError {
        switch failure {
        case .unexpectedNull:
            PQError(
                .decoding,
                "Column \"\(column.name)\" is NULL but was decoded as non-optional \(swiftType); decode it as \(swiftType)? instead."
            )
        case .typeMismatch(let accepted):
            PQError(
                .decoding,
                "Column \"\(column.name)\" is of type \(column.type), which cannot be decoded as \(swiftType) (accepts \(accepted)); cast it in SQL or decode another Swift type."
            )
        case .malformed(let why):
            PQError(
                .decoding,
                "Column \"\(column.name)\" (\(column.type)) could not be decoded as \(swiftType): the value is \(why).")
        }
    }
}

/// The rows a statement returned, and how many rows it affected.
public struct QueryResult: Sendable {
    /// The columns, shared by every row.
    public let layout: ColumnLayout
    /// The rows in the order the server sent them.
    public let rows: [Row]
    /// The count from the command tag (`INSERT 0 5` → 5), or `nil` when the command has none.
    public let affectedRows: Int?

    /// The result's columns, in order.
    public var columns: [Column] { layout.columns }
    /// The number of rows returned.
    public var count: Int { rows.count }
    /// `true` when no row was returned.
    public var isEmpty: Bool { rows.isEmpty }
    /// The first row, or `nil` when there is none.
    public var first: Row? { rows.first }

    /// The first row's first cell; throws if there is no row.
    public func scalar<T: PGDecodable>(_ type: T.Type = T.self) throws(PQError) -> T {
        guard let row = rows.first else {
            throw PQError(.decoding, "Expected one row but the statement returned none.")
        }
        return try row.decode(T.self, at: 0)
    }
}
