import Foundation
import PostgresNIO
import Store

/// The PostgreSQL side of `gantry store migrate`: an empty store takes a whole SQLite store in one transaction.
extension PostgresStore: TableCopyStore {
    public func exportTable(_ table: String, orderBy: String, columns: [String]?) async throws -> TableRows {
        guard CopiedTables.all.contains(where: { $0.table == table && $0.orderBy == orderBy }) else {
            throw PostgresStoreError("not a copied table: \(table)")
        }
        return try await read { conn in
            let names: [String]
            if let columns { names = columns } else {
                names = try await self.rows(conn, """
                    SELECT column_name FROM information_schema.columns WHERE table_name = \(table) ORDER BY ordinal_position
                    """).map { try $0.str("column_name") }
            }
            let list = names.map { "\"\($0)\"" }.joined(separator: ", ")
            var out: [[CellValue]] = []
            for try await row in try await conn.query(PostgresQuery(unsafeSQL: "SELECT \(list) FROM \(table) ORDER BY \(orderBy)"),
                                                      logger: self.logger) {
                var values: [CellValue] = []
                for cell in row {
                    guard cell.bytes != nil else { values.append(.null); continue }
                    switch cell.dataType {
                    case .int8, .int4, .int2: values.append(.integer(Int64(try cell.decode(Int.self))))
                    case .float8, .float4: values.append(.real(try cell.decode(Double.self)))
                    default: values.append(.text(try cell.decode(String.self)))
                    }
                }
                out.append(values)
            }
            return TableRows(table: table, columns: names, rows: out)
        }
    }

    public func importTables(_ tables: [TableRows]) async throws {
        try await write { conn in
            for (table, _) in CopiedTables.all {
                let n = try await self.one(conn, PostgresQuery(unsafeSQL: "SELECT COUNT(*) AS n FROM \(table)"))?.int("n") ?? 0
                if n > 0 { throw PostgresStoreError("the target is not empty (\(table) has \(n) rows): refusing to write into it") }
            }
            for t in tables {
                guard CopiedTables.all.contains(where: { $0.table == t.table }) else {
                    throw PostgresStoreError("not a copied table: \(t.table)")
                }
                let list = t.columns.map { "\"\($0)\"" }.joined(separator: ", ")
                let marks = t.columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
                for row in t.rows {
                    var binds = PostgresBindings(capacity: row.count)
                    for value in row {
                        switch value {
                        case .null: binds.appendNull()
                        case .integer(let v): binds.append(Int(v))
                        case .real(let v): binds.append(v)
                        case .text(let v): binds.append(v)
                        }
                    }
                    try await self.exec(conn, PostgresQuery(unsafeSQL: "INSERT INTO \(t.table) (\(list)) VALUES (\(marks))", binds: binds))
                }
            }
            // Serial columns continue after the copied ids, so new rows never collide with moved ones.
            for (table, column) in [("deliveries", "id"), ("triggers", "id"), ("stage_logs", "id"), ("invocations", "id"),
                                    ("deployments", "seq"), ("api_tokens", "id")] {
                try await self.exec(conn, PostgresQuery(unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), COALESCE(MAX(\(column)), 0) + 1, false) FROM \(table)
                    """))
            }
        }
    }
}
