import Foundation
import GRDB
import Logging
import SQLKit
import SQLStore
import Store

/// The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so a commit survives power loss.
/// Its calls are the shared queries (`SQLBackedStore`); this file holds only what is SQLite's own: the file, one
/// write transaction at a time, the schema runner, and deliveries committed in groups.
public final class SQLiteStore: SQLBackedStore, Sendable {
    let pool: DatabasePool
    private let writeLock = SerialGate()
    private let deliveries = GroupCommit()
    private let logger = Logger(label: "gantry.sqlite")
    public let outbox = OutboxHook()
    public let claimant = UUID().uuidString.lowercased()
    public var flavor: SQLFlavor { .sqlite }
    /// The configured `PRAGMA synchronous` of every commit that must reach the disk.
    private let synchronous: String

    public struct Options: Sendable {
        /// FULL (default) fsyncs every commit; NORMAL trades the last commits on power loss for speed.
        public var synchronous: String = "FULL"
        public init(synchronous: String = "FULL") { self.synchronous = synchronous }
    }

    /// Opens (creating if needed) `<path>` and migrates it to the current schema.
    public init(path: String, options: Options = Options()) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        var config = Configuration()
        let sync = options.synchronous.uppercased()
        synchronous = sync
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(sync)")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        // Another process (a second `gantry` on the same data dir, the CLI) may hold the write lock briefly.
        config.busyMode = .timeout(10)
        // A write transaction spans several of GRDB's writer calls (one per statement), under `writeLock`.
        config.allowsUnsafeTransactions = true
        pool = try DatabasePool(path: path, configuration: config)
        // GRDB's WAL setup sets synchronous=NORMAL after prepareDatabase ran: set ours again on the writer, or
        // commits are never fsynced and a 202 could be lost on power loss (seen with strace: no fdatasync at all).
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = \(sync)") }
        try SQLiteSchema.migrate(pool)
    }

    public func write<T: Sendable>(_ durability: Durability, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        let db = GRDBDatabase(pool: pool, side: .writer, logger: logger)
        return try await writeLock.serialized {
            // In WAL mode NORMAL writes the commit to the log without fsyncing it; the next FULL commit's fsync
            // takes it to disk, in order.
            let relaxed = durability == .process && synchronous != "NORMAL" && synchronous != "OFF"
            if relaxed { try db.inline { try $0.execute(sql: "PRAGMA synchronous = NORMAL") } }
            defer { if relaxed { try? db.inline { try $0.execute(sql: "PRAGMA synchronous = \(self.synchronous)") } } }
            try db.inline { try $0.execute(sql: "BEGIN IMMEDIATE") }
            do {
                let result = try await body(db)
                try await db.run { try $0.execute(sql: "COMMIT") }
                return result
            } catch {
                _ = try? await db.run { db in if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") } }
                throw error
            }
        }
    }

    public func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await body(GRDBDatabase(pool: pool, side: .reader, logger: logger))
    }

    /// One process owns a SQLite store: every wake-up is already in memory.
    public func notify(_ db: any SQLDatabase, _ wake: StoreWake) async throws {}

    /// One writer at a time: a write transaction holds everything already.
    public func serialize(_ db: any SQLDatabase, _ work: SerializedWork) async throws {}

    public func columns(of table: String, _ db: any SQLDatabase) async throws -> [String] {
        try await GRDBDatabase(pool: pool, side: .reader, logger: logger).run { try $0.columns(in: table).map(\.name) }
    }

    /// SQLite continues INTEGER PRIMARY KEYs after the largest, and numbers `seq` itself.
    public func continueIdentities(_ db: any SQLDatabase) async throws {}

    /// Deliveries arriving while one batch is being fsynced go into the next one together: each caller still
    /// returns only after its own delivery is durable, but a burst of N costs about one fsync instead of N.
    public func ingest(_ delivery: NewDelivery) async throws -> IngestResult {
        try await deliveries.submit(delivery) { batch in
            try await self.write { db in
                let now = Date()
                var results: [IngestResult] = []
                for d in batch { results.append(try await self.record(d, db, now: now)) }
                return results
            }
        }
    }

    /// One process owns a SQLite store: nobody else commits wake-ups. Waits until cancelled.
    public func listen(_ onWake: @escaping @Sendable (StoreWake) -> Void) async throws {
        while !Task.isCancelled { try? await Task.sleep(nanoseconds: 3_600_000_000_000) }
    }

    /// `PRAGMA integrity_check`: "ok" for a sound database file, else SQLite's list of problems.
    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }
}
