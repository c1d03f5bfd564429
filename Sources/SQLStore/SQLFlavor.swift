import Foundation
import SQLKit

/// Every place where the store's SQL differs between SQLite and PostgreSQL. Everything else is one query for both.
public enum SQLFlavor: Sendable {
    case sqlite, postgres

    /// A lock on the rows a SELECT reads, held to the end of the transaction. SQLite has one writer at a time, so
    /// a write transaction holds everything already.
    func lock(skipLocked: Bool = false) -> SQLQueryString {
        switch self {
        case .sqlite: return ""
        case .postgres: return skipLocked ? "FOR UPDATE SKIP LOCKED" : "FOR UPDATE"
        }
    }

    /// Whether pending triggers are claimed (written) before planning. Several PostgreSQL replicas must not plan
    /// one repository at once; SQLite's one process reads them, and its planning never takes the writer away from
    /// webhook deliveries (claiming a thousand triggers on every wake-up halved ingest throughput).
    var claimsTriggers: Bool { self == .postgres }

    /// The next deployment's place in the history: an identity column on PostgreSQL (several replicas insert at
    /// once); SQLite's one writer takes the next number itself.
    var nextDeploymentSeq: SQLQueryString {
        switch self {
        case .sqlite: return "(SELECT COALESCE(MAX(seq), 0) + 1 FROM deployments)"
        case .postgres: return "DEFAULT"
        }
    }

    /// Schema text is written in PostgreSQL's words; SQLite's rowid alias must be spelled `INTEGER PRIMARY KEY`
    /// exactly, and it has no serial type (the one writer numbers `seq`). Every other type name SQLite maps to the
    /// same affinity itself (BIGINT: integer, DOUBLE PRECISION: real).
    func schema(_ statement: String) -> String {
        switch self {
        case .postgres: return statement
        case .sqlite:
            return statement.replacingOccurrences(of: "BIGSERIAL PRIMARY KEY", with: "INTEGER PRIMARY KEY")
                .replacingOccurrences(of: "BIGSERIAL", with: "INTEGER")
        }
    }
}
