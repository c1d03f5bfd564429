import Foundation
import Logging
import PostgresKit
import PostgresNIO
import SQLStore
import Store

/// The shared store: several Gantry replicas on one PostgreSQL. The database does the coordination: unique
/// constraints dedupe deliveries, `FOR UPDATE SKIP LOCKED` hands each runnable stage to one replica, attempt
/// numbers fence a replica that lost its lease, a partial unique index keeps one active deployment per
/// application, and `NOTIFY` wakes the other replicas. Its calls are the shared queries (`SQLBackedStore`); this
/// file holds only what is PostgreSQL's own. Times are Unix seconds (double precision) and flags 0/1, as in the
/// SQLite store, so `gantry store migrate` copies rows unchanged and can compare checksums.
public final class PostgresStore: SQLBackedStore, Sendable {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    public let outbox = OutboxHook()
    public let claimant = UUID().uuidString.lowercased()
    public var flavor: SQLFlavor { .postgres }

    /// Connects (`postgres://user:password@host:port/database?sslmode=disable|require`) and migrates the schema.
    public init(url: String, logger: Logger = Logger(label: "gantry.postgres")) async throws {
        self.logger = logger
        var config = try Self.configuration(url)
        config.options.maximumConnections = 16
        // A replica paused (SIGSTOP, a long GC-like stall) in the middle of a transaction would keep its row locks,
        // and `SKIP LOCKED` would skip that stage for as long as it stays paused: the server ends such a session
        // well within a lease period, so the stage can be taken over once the lease expires.
        config.options.additionalStartupParameters = [("idle_in_transaction_session_timeout", "2000")]
        client = PostgresClient(configuration: config, backgroundLogger: logger)
        let client = self.client
        runner = Task { await client.run() }
        do {
            // The pool keeps retrying a server it cannot reach: a start against a wrong URL fails after a bound
            // instead, and says where it tried.
            let target = "\(config.host ?? "?"):\(config.port ?? 5432)"
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Self.migrate(client, logger: logger) }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(Self.connectSeconds * 1_000_000_000))
                    throw StoreError("PostgreSQL at \(target) did not answer within \(Int(Self.connectSeconds)) s")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            runner.cancel()
            throw error
        }
    }

    /// How long opening the store waits for the database.
    static let connectSeconds = 10.0

    deinit { runner.cancel() }

    /// Closes the connections (the store is unusable afterwards).
    public func close() { runner.cancel() }

    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let u = URLComponents(string: url), ["postgres", "postgresql"].contains(u.scheme ?? ""),
              let host = u.host, !host.isEmpty else {
            throw StoreError("not a PostgreSQL URL (postgres://user@host:5432/database): \(redacted(url))")
        }
        let database = u.path.hasPrefix("/") ? String(u.path.dropFirst()) : u.path
        let sslmode = u.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        case "prefer": tls = .prefer(.makeClientConfiguration())
        default: throw StoreError("sslmode \(sslmode) is not supported (disable, prefer, require)")
        }
        return PostgresClient.Configuration(host: host, port: u.port ?? 5432, username: u.user ?? "postgres",
                                            password: u.password?.removingPercentEncoding ?? u.password,
                                            database: database.isEmpty ? nil : database, tls: tls)
    }

    /// The URL without its password, for messages.
    public static func redacted(_ url: String) -> String {
        guard var u = URLComponents(string: url), u.password != nil else { return url }
        u.password = "***"
        return u.string ?? url
    }

    public func write<T: Sendable>(_ durability: Durability, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withTransaction(logger: logger) { conn in
            // Survives a Gantry crash (the server has it), not a database crash: no WAL flush to wait for.
            if durability == .process { try await conn.sql().raw("SET LOCAL synchronous_commit TO OFF").run() }
            return try await body(conn.sql())
        }
    }

    public func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { conn in try await body(conn.sql()) }
    }

    /// NOTIFY is transactional: the other replicas hear it once this transaction commits.
    public func notify(_ db: any SQLDatabase, _ wake: StoreWake) async throws {
        try await db.raw("SELECT pg_notify('gantry', \(bind: wake.payload))").run()
    }

    public func serialize(_ db: any SQLDatabase, _ work: SerializedWork) async throws {
        switch work {
        case .planningClaims: try await db.raw("SELECT pg_advisory_xact_lock(74280002)").run()
        case .activation(let application):
            try await db.raw("SELECT pg_advisory_xact_lock(74280003, hashtext(\(bind: application)))").run()
        case .concurrencySlot(let slot):
            try await db.raw("SELECT pg_advisory_xact_lock(74280004, hashtext(\(bind: slot)))").run()
        }
    }

    public func columns(of table: String, _ db: any SQLDatabase) async throws -> [String] {
        try await db.raw("""
            SELECT column_name FROM information_schema.columns WHERE table_name = \(bind: table) ORDER BY ordinal_position
            """).all().map { try $0.decode(column: "column_name", as: String.self) }
    }

    /// Serial columns continue after the copied ids, so new rows never collide with moved ones.
    public func continueIdentities(_ db: any SQLDatabase) async throws {
        for (table, column) in [("deliveries", "id"), ("triggers", "id"), ("stage_logs", "id"), ("invocations", "id"),
                                ("deployments", "seq"), ("api_tokens", "id"), ("outbox", "id")] {
            try await db.raw("""
                SELECT setval(pg_get_serial_sequence(\(bind: table), \(bind: column)), COALESCE(MAX(\(ident: column)), 0) + 1, false)
                FROM \(ident: table)
                """).run()
        }
    }

    /// Holds one connection with `LISTEN gantry` and calls `onWake` per notification until cancelled.
    public func listen(_ onWake: @escaping @Sendable (StoreWake) -> Void) async throws {
        try await client.withConnection { conn in
            try await conn.listen(on: "gantry") { notifications in
                for try await n in notifications {
                    if let wake = StoreWake(payload: n.payload) { onWake(wake) }
                }
            }
        }
    }

    /// Applies the missing migrations of the shared schema in order, in one transaction under an advisory lock:
    /// replicas that start together migrate once.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(74280001)", logger: logger)
            try await conn.query(PostgresQuery(unsafeSQL: StoreSchema.table), logger: logger)
            var applied = Set<String>()
            for try await version in try await conn.query("SELECT version FROM schema_migrations", logger: logger)
                .decode(String.self) { applied.insert(version) }
            for migration in StoreSchema.missing(applied: applied, flavor: .postgres) {
                for statement in migration.statements {
                    try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = Date().timeIntervalSince1970
                try await conn.query("INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.version), \(now))",
                                     logger: logger)
                logger.info("postgres: applied migration \(migration.version)")
            }
        }
    }
}
