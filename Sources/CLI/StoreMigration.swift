import Digest
import Foundation
import Logging
import PostgresStore
import Server
import SQLiteStore
import Store

/// `gantry store migrate --from sqlite:PATH --to postgres://...`: copies every table of a SQLite store into an
/// empty PostgreSQL store in one transaction, then reads each table back and compares row counts and a SHA-256
/// over the rows in key order. The SQLite file is only read. Stop the SQLite server first: running and suspended
/// deployments then resume on the PostgreSQL replicas (a running stage once its old lease has expired).
enum StoreMigration {
    struct TableReport: Sendable {
        let table: String
        let rows: Int
        let checksum: String
    }

    struct Mismatch: Error, CustomStringConvertible { public let description: String }

    static func run(from: String, to: String, logger: Logger) async throws -> [TableReport] {
        guard from.hasPrefix("sqlite:") else { throw Mismatch(description: "--from must be sqlite:PATH") }
        let path = String(from.dropFirst("sqlite:".count))
        guard FileManager.default.fileExists(atPath: path) else { throw Mismatch(description: "no SQLite store at \(path)") }
        guard case .postgres(let url) = try StoreSelection.parse(to, dataDir: "") else {
            throw Mismatch(description: "--to must be a postgres:// URL (or env:NAME / file:PATH holding one)")
        }
        let source = try SQLiteStore(path: path)
        let target = try await PostgresStore(url: url, logger: logger)
        defer { target.close() }
        var tables: [TableRows] = []
        for (table, order) in CopiedTables.all {
            tables.append(try await source.exportTable(table, orderBy: order, columns: nil))
        }
        try await target.importTables(tables)
        var reports: [TableReport] = []
        for (copied, (table, order)) in zip(tables, CopiedTables.all) {
            let back = try await target.exportTable(table, orderBy: order, columns: copied.columns)
            let want = checksum(copied), got = checksum(back)
            guard copied.rows.count == back.rows.count, want == got else {
                throw Mismatch(description: "\(table): \(copied.rows.count) rows with checksum \(want) in SQLite, "
                    + "\(back.rows.count) rows with checksum \(got) in PostgreSQL")
            }
            reports.append(TableReport(table: table, rows: copied.rows.count, checksum: want))
        }
        return reports
    }

    /// SHA-256 over the rows, each value typed and length-prefixed so no two different tables hash alike.
    static func checksum(_ t: TableRows) -> String {
        var bytes: [UInt8] = Array(t.columns.joined(separator: ",").utf8)
        for row in t.rows {
            bytes.append(0x1e)
            for value in row {
                let text: String
                switch value {
                case .null: text = "n"
                case .integer(let v): text = "i\(v)"
                case .real(let v): text = "r\(v.bitPattern)"
                case .text(let v): text = "t\(v.utf8.count):\(v)"
                }
                bytes.append(contentsOf: Array(text.utf8)); bytes.append(0x1f)
            }
        }
        return Digest.sha256Hex(bytes)
    }
}
