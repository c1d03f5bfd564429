import Foundation
import GRDB
import Store

/// The SQLite side of `gantry store migrate`: every row of a table, values as stored.
extension SQLiteStore: TableCopyStore {
    public func exportTable(_ table: String, orderBy: String, columns: [String]?) async throws -> TableRows {
        guard CopiedTables.all.contains(where: { $0.table == table && $0.orderBy == orderBy }) else {
            throw DatabaseError(message: "not a copied table: \(table)")
        }
        return try await pool.read { db in
            let names = try columns ?? db.columns(in: table).map(\.name)
            let list = names.map { "\"\($0)\"" }.joined(separator: ", ")
            let rows = try Row.fetchAll(db, sql: "SELECT \(list) FROM \(table) ORDER BY \(orderBy)").map { row in
                names.indices.map { i -> CellValue in
                    let value: DatabaseValue = row[i]
                    switch value.storage {
                    case .null: return .null
                    case .int64(let v): return .integer(v)
                    case .double(let v): return .real(v)
                    case .string(let v): return .text(v)
                    case .blob(let d): return .text(String(decoding: d, as: UTF8.self))
                    }
                }
            }
            return TableRows(table: table, columns: names, rows: rows)
        }
    }

    /// Moving into SQLite is not offered (SQLite is where a store starts); the other way round is.
    public func importTables(_ tables: [TableRows]) async throws {
        throw DatabaseError(message: "gantry store migrate writes into PostgreSQL only")
    }
}
