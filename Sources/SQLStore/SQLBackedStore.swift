import Foundation
import SQLKit
import Store

/// A store whose calls are the shared queries of this module. A back end (SQLite, PostgreSQL) supplies only the
/// connection handling and what its database does differently; every store call is written once, here.
public protocol SQLBackedStore: Store, TableCopyStore {
    /// Which SQL the back end speaks where the two differ (`SQLFlavor` lists every such place).
    var flavor: SQLFlavor { get }
    /// Names this process's planning claims, so its own claims never block it.
    var claimant: String { get }
    /// One transaction: committed when `body` returns (as far as `durability` says), rolled back when it throws.
    func write<T: Sendable>(_ durability: Durability, _ body: (any SQLDatabase) async throws -> T) async throws -> T
    /// Reads outside any write transaction.
    func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T
    /// Wakes every process sharing the store once this transaction commits (nobody else with one process).
    func notify(_ db: any SQLDatabase, _ wake: StoreWake) async throws
    /// Holds `work` for this process until the transaction ends, when several processes could do it at once.
    func serialize(_ db: any SQLDatabase, _ work: SerializedWork) async throws
    /// A table's column names in their declared order.
    func columns(of table: String, _ db: any SQLDatabase) async throws -> [String]
    /// After a whole store was imported: identity columns continue after the copied ids.
    func continueIdentities(_ db: any SQLDatabase) async throws
}

extension SQLBackedStore {
    /// One transaction, on disk when it returns.
    public func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await write(.disk, body)
    }
}

/// How far a commit has reached when `write` returns.
public enum Durability: Sendable {
    /// On disk: it survives power loss. Everything Gantry promises to keep.
    case disk
    /// With the database, not yet on disk: it survives this process dying, not the machine. Only for facts a
    /// machine crash makes moot (a running function's process group dies with the machine), so they cost no
    /// fsync of their own; the next commit on disk carries them there.
    case process
}

/// Work that only one process may do at a time (PostgreSQL holds a transaction-scoped advisory lock for it).
public enum SerializedWork: Sendable, Hashable {
    case planningClaims
    /// Starting an application's next deployment.
    case activation(application: String)
    /// Counting and taking a concurrency slot: two replicas must not both see the last free place.
    case concurrencySlot(String)
}

public struct StoreError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One row's columns by name, typed; an unknown enumeration value is a clear error, never a silent default.
public struct Cells: Sendable {
    let row: any SQLRow
    let table: String

    public init(row: any SQLRow, table: String = "row") { self.row = row; self.table = table }

    func str(_ c: String) throws -> String { try row.decode(column: c, as: String.self) }
    func optStr(_ c: String) throws -> String? { try row.decodeNil(column: c) ? nil : try str(c) }
    func int(_ c: String) throws -> Int { try row.decode(column: c, as: Int.self) }
    func optInt(_ c: String) throws -> Int? { try row.decodeNil(column: c) ? nil : try int(c) }
    func dbl(_ c: String) throws -> Double { try row.decode(column: c, as: Double.self) }
    func optDbl(_ c: String) throws -> Double? { try row.decodeNil(column: c) ? nil : try dbl(c) }
    func flag(_ c: String) throws -> Bool { try int(c) != 0 }
    func date(_ c: String) throws -> Date { Date(timeIntervalSince1970: try dbl(c)) }
    func optDate(_ c: String) throws -> Date? { try optDbl(c).map { Date(timeIntervalSince1970: $0) } }

    func value<E: RawRepresentable>(_ c: String, as: E.Type) throws -> E where E.RawValue == String {
        let raw = try str(c)
        guard let value = E(rawValue: raw) else {
            throw StoreError("\(table).\(c) holds '\(raw)', which this Gantry does not know (a newer release wrote it?)")
        }
        return value
    }

    /// The cell as stored, whatever its column's type (for moving whole tables between back ends).
    func stored(_ c: String) -> CellValue {
        if (try? row.decodeNil(column: c)) ?? true { return .null }
        if let v = try? row.decode(column: c, as: Int.self) { return .integer(Int64(v)) }
        if let v = try? row.decode(column: c, as: Double.self) { return .real(v) }
        if let v = try? row.decode(column: c, as: String.self) { return .text(v) }
        return .null
    }
}

extension SQLDatabase {
    /// Every row `query` returns.
    func rows(_ query: SQLQueryString, table: String = "row") async throws -> [Cells] {
        let collected = Collected()
        try await execute(sql: query) { collected.append($0) }
        return collected.rows.map { Cells(row: $0, table: table) }
    }

    func one(_ query: SQLQueryString, table: String = "row") async throws -> Cells? {
        try await rows(query, table: table).first
    }

    func exec(_ query: SQLQueryString) async throws {
        try await execute(sql: query) { _ in }
    }
}

/// Rows handed over one by one from the driver's thread.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [any SQLRow] = []
    func append(_ row: any SQLRow) { lock.withLock { storage.append(row) } }
    var rows: [any SQLRow] { lock.withLock { storage } }
}

extension Date {
    /// Stored form: Unix seconds (comparable in SQL, exact to the microsecond).
    var epoch: Double { timeIntervalSince1970 }
}
