/// One stored value, as both stores hold it (times are Unix seconds, flags 0/1).
public enum CellValue: Sendable, Hashable {
    case null, integer(Int64), real(Double), text(String)
}

/// A whole table's rows in key order, for moving a store from one back end to the other.
public struct TableRows: Sendable {
    public var table: String
    public var columns: [String]
    public var rows: [[CellValue]]
    public init(table: String, columns: [String], rows: [[CellValue]]) {
        self.table = table; self.columns = columns; self.rows = rows
    }
}

/// The tables `gantry store migrate` copies (foreign keys satisfied in this order) and the key that orders
/// their rows the same way in both stores. Replicas are not copied: they name themselves again on start.
public enum CopiedTables {
    public static let all: [(table: String, orderBy: String)] = [
        ("deliveries", "id"), ("triggers", "id"), ("applications", "name"), ("deployments", "id"),
        ("stages", "deployment_id, idx"), ("stage_logs", "id"), ("approvals", "deployment_id, stage_idx, approver"),
        ("invocations", "id"), ("users", "name"), ("sessions", "token_hash"), ("api_tokens", "id"), ("outbox", "id"), ("outbox_memos", "target, memo_key"),
    ]
}

/// Reading every row of a table, and writing a whole store's tables into an empty one.
public protocol TableCopyStore: Sendable {
    /// `columns` nil: every column of the table.
    func exportTable(_ table: String, orderBy: String, columns: [String]?) async throws -> TableRows
    /// Writes all tables in one transaction; refuses (throws, writes nothing) unless every copied table is empty.
    func importTables(_ tables: [TableRows]) async throws
}
