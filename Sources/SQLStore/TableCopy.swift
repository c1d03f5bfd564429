import Foundation
import SQLKit
import Store

/// `gantry store migrate`: every row of a table as stored, and a whole store written into an empty one in one
/// transaction.
extension SQLBackedStore {
    public func exportTable(_ table: String, orderBy: String, columns: [String]?) async throws -> TableRows {
        try copied(table, orderBy: orderBy)
        return try await read { db in
            var names = columns ?? []
            if columns == nil { names = try await self.columns(of: table, db) }
            let rows = try await db.rows("""
                SELECT \(idents: names, joinedBy: ", ") FROM \(ident: table) ORDER BY \(unsafeRaw: orderBy)
                """)
            return TableRows(table: table, columns: names, rows: rows.map { row in names.map { row.stored($0) } })
        }
    }

    public func importTables(_ tables: [TableRows]) async throws {
        try await write { db in
            for (table, _) in CopiedTables.all {
                let n = try await db.one("SELECT COUNT(*) AS n FROM \(ident: table)")?.int("n") ?? 0
                if n > 0 { throw StoreError("the target is not empty (\(table) has \(n) rows): refusing to write into it") }
            }
            for t in tables {
                try copied(t.table, orderBy: nil)
                for row in t.rows {
                    // NULL is written as such: a bound null carries its Swift type to PostgreSQL, and a text-typed
                    // null does not go into a number column.
                    let values = row.map { value -> SQLQueryString in
                        switch value {
                        case .null: return "NULL"
                        case .integer(let v): return "\(bind: Int(v))"
                        case .real(let v): return "\(bind: v)"
                        case .text(let v): return "\(bind: v)"
                        }
                    }
                    try await db.exec("""
                        INSERT INTO \(ident: t.table) (\(idents: t.columns, joinedBy: ", ")) VALUES (\(values.joined(separator: ", ")))
                        """)
                }
            }
            try await self.continueIdentities(db)
        }
    }

    /// Only the store's own tables are named in these statements.
    private func copied(_ table: String, orderBy: String?) throws {
        guard CopiedTables.all.contains(where: { $0.table == table && (orderBy == nil || $0.orderBy == orderBy) }) else {
            throw StoreError("not a copied table: \(table)")
        }
    }
}
