import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLStore

/// SQLKit's view of the SQLite file through GRDB: statements run on GRDB's writer (inside a transaction the store
/// opened) or on one of its readers, as GRDB's cached prepared statements. GRDB keeps the WAL setup, the fsync
/// policy and the connection pool; SQLKit renders the shared queries with `?` placeholders.
struct GRDBDatabase: SQLDatabase {
    enum Side: Sendable { case reader, writer }
    let pool: DatabasePool
    let side: Side
    let logger: Logger

    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLKit.SQLDialect { SQLiteDialect() }

    func execute(sql query: any SQLKit.SQLExpression, _ onRow: @escaping @Sendable (any SQLKit.SQLRow) -> ()) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    func execute(sql query: any SQLKit.SQLExpression, _ onRow: @escaping @Sendable (any SQLKit.SQLRow) -> ()) async throws {
        let (sql, binds) = serialize(query)
        let arguments = StatementArguments(try binds.map(Self.databaseValue))
        let rows = try inline { db in
            let statement = try db.cachedStatement(sql: sql)
            // One array of column names shared by every row of the result.
            let names = statement.columnNames
            return try Row.fetchAll(statement, arguments: arguments).map { GRDBRow(names: names, row: $0) }
        }
        rows.forEach(onRow)
    }

    /// Runs `body` on the calling thread: GRDB's queue `sync` runs the block where it is called, so a statement
    /// costs no thread hop (one hop per statement made ingest 4x slower). Write transactions are serialized by the
    /// store before their first statement, so the writer is never busy here with anyone else's work.
    func inline<T>(_ body: (Database) throws -> T) throws -> T {
        switch side {
        case .writer: return try pool.writeWithoutTransaction(body)
        case .reader: return try pool.read(body)
        }
    }

    /// Runs `body` on GRDB's writer or a reader thread, for what waits on the disk (COMMIT's fsync) and must not
    /// hold one of the few threads Swift's tasks run on. GRDB's callback calls are used, not its async ones: those
    /// give up when the calling task is cancelled, and a COMMIT or ROLLBACK must never be skipped.
    func run<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            switch side {
            case .writer:
                pool.asyncWriteWithoutTransaction { db in continuation.resume(with: Result { try body(db) }) }
            case .reader:
                pool.asyncRead { db in continuation.resume(with: Result { try body(db.get()) }) }
            }
        }
    }

    /// SQLKit hands binds over as `Encodable`; the store binds only these types.
    static func databaseValue(_ bind: any Encodable & Sendable) throws -> DatabaseValue {
        switch bind {
        case let v as String: return v.databaseValue
        case let v as Int: return v.databaseValue
        case let v as Int64: return v.databaseValue
        case let v as Int32: return v.databaseValue
        case let v as Double: return v.databaseValue
        case let v as Bool: return v.databaseValue
        default:
            let mirror = Mirror(reflecting: bind)
            if mirror.displayStyle == .optional, mirror.children.isEmpty { return .null }
            throw StoreError("the SQLite store cannot bind a \(type(of: bind))")
        }
    }
}

/// One result row, copied out of GRDB's statement (its rows are reused while iterating).
struct GRDBRow: SQLKit.SQLRow {
    let allColumns: [String]
    let values: [DatabaseValue]

    init(names: [String], row: Row) {
        allColumns = names
        values = Array(row.databaseValues)
    }

    func contains(column: String) -> Bool { allColumns.contains(column) }

    func decodeNil(column: String) throws -> Bool { try value(column).isNull }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        let value = try self.value(column)
        // The store asks for these four types only; comparing metatypes first keeps the casts out of the hot path.
        switch value.storage {
        case .string(let v) where D.self == String.self: return unsafeBitCast(v, to: D.self)
        case .blob(let v) where D.self == String.self: return unsafeBitCast(String(decoding: v, as: UTF8.self), to: D.self)
        case .int64(let v) where D.self == Int.self: return unsafeBitCast(Int(v), to: D.self)
        case .int64(let v) where D.self == Int64.self: return unsafeBitCast(v, to: D.self)
        case .int64(let v) where D.self == Double.self: return unsafeBitCast(Double(v), to: D.self)
        case .double(let v) where D.self == Double.self: return unsafeBitCast(v, to: D.self)
        case .int64(let v) where D.self == Bool.self: return unsafeBitCast(v != 0, to: D.self)
        default:
            throw DecodingError.typeMismatch(D.self, .init(codingPath: [], debugDescription: "column \(column) holds \(value)"))
        }
    }

    private func value(_ column: String) throws -> DatabaseValue {
        guard let i = allColumns.firstIndex(of: column) else {
            throw DecodingError.keyNotFound(SomeCodingKey(stringValue: column), .init(codingPath: [], debugDescription: "no column \(column)"))
        }
        return values[i]
    }
}

/// How SQLKit writes SQL for SQLite.
struct SQLiteDialect: SQLKit.SQLDialect {
    var name: String { "sqlite" }
    var identifierQuote: any SQLKit.SQLExpression { SQLKit.SQLRaw("\"") }
    var literalStringQuote: any SQLKit.SQLExpression { SQLKit.SQLRaw("'") }
    var supportsAutoIncrement: Bool { false }
    var autoIncrementClause: any SQLKit.SQLExpression { SQLKit.SQLRaw("AUTOINCREMENT") }
    func bindPlaceholder(at position: Int) -> any SQLKit.SQLExpression { SQLKit.SQLRaw("?") }
    func literalBoolean(_ value: Bool) -> any SQLKit.SQLExpression { SQLKit.SQLRaw(value ? "1" : "0") }
    var supportsReturning: Bool { true }
}
