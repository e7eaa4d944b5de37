import PQ

extension ProjectionEngine {
    /// An index or a constraint of a build's table, as the catalog spells it.
    struct IndexDefinition {
        let schema: String
        let table: String
        let name: String
        /// `pg_get_constraintdef` when the index backs a constraint (primary key, unique).
        let constraint: String?
        /// `pg_get_indexdef` (schema-qualified).
        let index: String
    }

    /// Drops the indexes and index-backed constraints of `projector`'s tables in `schema` (a
    /// fresh build's, still empty), so a fold writes bare tables and builds each index once, by
    /// sorting, instead of row by row. Returns what ``recreate(_:on:)`` puts back.
    static func dropIndexes(of projector: any Projector, in schema: String, on conn: Connection) async throws
        -> [IndexDefinition]
    {
        let found = try await conn.query(
            """
            SELECT t.relname, i.relname, pg_get_constraintdef(c.oid), pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = t.oid
            WHERE n.nspname = \(schema) AND t.relname = ANY(\(projector.tables)::text[])
            ORDER BY t.relname, i.relname
            """
        ).rows.map {
            IndexDefinition(
                schema: schema, table: try $0.decode(String.self, at: 0), name: try $0.decode(String.self, at: 1),
                constraint: try $0.decode(String?.self, at: 2), index: try $0.decode(String.self, at: 3))
        }
        for definition in found {
            if definition.constraint != nil {
                try await conn.execute(
                    """
                    ALTER TABLE \(identifier: schema).\(identifier: definition.table) DROP CONSTRAINT \(identifier: definition.name)
                    """)
            } else {
                try await conn.execute("DROP INDEX \(identifier: schema).\(identifier: definition.name)")
            }
        }
        return found
    }

    /// Puts back what ``dropIndexes(of:in:on:)`` dropped: constraints first (a duplicate key
    /// the fold wrote fails here, and with it the fold), then the other indexes.
    static func recreate(_ definitions: [IndexDefinition], on conn: Connection) async throws {
        for definition in definitions {
            guard let constraint = definition.constraint else { continue }
            var statement: SQL =
                "ALTER TABLE \(identifier: definition.schema).\(identifier: definition.table) ADD CONSTRAINT \(identifier: definition.name) "
            // Reviewed: the catalog's rendering of a constraint that the projector's
            // prepare(on:) created on its own table in the build schema; no input reaches it.
            statement.append(SQL(unsafeText: constraint))
            try await conn.execute(statement)
        }
        for definition in definitions where definition.constraint == nil {
            // Reviewed: pg_get_indexdef of an index prepare(on:) created (see above).
            try await conn.execute(SQL(unsafeText: definition.index))
        }
    }
}
