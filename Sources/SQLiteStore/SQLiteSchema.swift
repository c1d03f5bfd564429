import Foundation
import GRDB
import SQLStore

/// Brings a SQLite file to the shared schema (`StoreSchema`), in one transaction.
enum SQLiteSchema {
    static func migrate(_ pool: DatabasePool) throws {
        try pool.write { db in
            try db.execute(sql: StoreSchema.table)
            var applied = Set(try String.fetchAll(db, sql: "SELECT version FROM schema_migrations"))
            if applied.isEmpty, try db.tableExists("grdb_migrations") {
                applied = try adoptLegacy(db)
            }
            for migration in StoreSchema.missing(applied: applied, flavor: .sqlite) {
                for statement in migration.statements { try db.execute(sql: statement) }
                try record(db, migration.version)
            }
        }
    }

    /// A store made before the schema was shared: its GRDB migration list maps onto the shared one.
    private static func adoptLegacy(_ db: Database) throws -> Set<String> {
        let legacy = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
        guard legacy.contains(StoreSchema.sqliteLegacyLast) else {
            throw StoreError("""
                this SQLite store was made by an older Gantry (its newest migration is \
                \(legacy.sorted().last ?? "none"), not \(StoreSchema.sqliteLegacyLast)): start the previous release \
                on it once to bring it up to date, then this one
                """)
        }
        for version in StoreSchema.sqliteLegacyEquivalent { try record(db, version) }
        try db.execute(sql: "DROP TABLE grdb_migrations")
        return Set(StoreSchema.sqliteLegacyEquivalent)
    }

    private static func record(_ db: Database, _ version: String) throws {
        try db.execute(sql: "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                       arguments: [version, Date().timeIntervalSince1970])
    }
}
