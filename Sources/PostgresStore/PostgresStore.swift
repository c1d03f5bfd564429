import Foundation
import Logging
import PostgresNIO
import Store

/// The shared store: several Gantry replicas on one PostgreSQL. The database does the coordination: unique
/// constraints dedupe deliveries, `FOR UPDATE SKIP LOCKED` hands each runnable stage to one replica, attempt
/// numbers fence a replica that lost its lease, a partial unique index keeps one active deployment per
/// application, and `NOTIFY` wakes the other replicas. Times are Unix seconds (double precision) and flags 0/1,
/// as in the SQLite store, so `gantry store migrate` copies rows unchanged and can compare checksums.
public final class PostgresStore: Store, Sendable {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// Names this process's trigger claims (planning), so its own claims never block it.
    let claimant = UUID().uuidString.lowercased()

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
                group.addTask { try await PostgresSchema.migrate(client, logger: logger) }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(Self.connectSeconds * 1_000_000_000))
                    throw PostgresStoreError("PostgreSQL at \(target) did not answer within \(Int(Self.connectSeconds)) s")
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
            throw PostgresStoreError("not a PostgreSQL URL (postgres://user@host:5432/database): \(redacted(url))")
        }
        let database = u.path.hasPrefix("/") ? String(u.path.dropFirst()) : u.path
        let sslmode = u.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        case "prefer": tls = .prefer(.makeClientConfiguration())
        default: throw PostgresStoreError("sslmode \(sslmode) is not supported (disable, prefer, require)")
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

    // MARK: helpers every query file uses

    /// One transaction: committed when `body` returns, rolled back when it throws.
    func write<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withTransaction(logger: logger) { conn in try await body(conn) }
    }

    func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { conn in try await body(conn) }
    }

    func rows(_ conn: PostgresConnection, _ query: PostgresQuery) async throws -> [Cells] {
        var out: [Cells] = []
        for try await row in try await conn.query(query, logger: logger) { out.append(Cells(row: row.makeRandomAccess())) }
        return out
    }

    func one(_ conn: PostgresConnection, _ query: PostgresQuery) async throws -> Cells? {
        try await rows(conn, query).first
    }

    func exec(_ conn: PostgresConnection, _ query: PostgresQuery) async throws {
        try await conn.query(query, logger: logger)
    }

    /// Wakes every replica's planner or engine once this transaction commits (NOTIFY is transactional).
    func notify(_ conn: PostgresConnection, _ topic: WakeTopic) async throws {
        try await exec(conn, "SELECT pg_notify('gantry', \(topic.rawValue))")
    }
}

public struct PostgresStoreError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Typed reads of one row by column name.
struct Cells {
    let row: PostgresRandomAccessRow
    func str(_ c: String) throws -> String { try row[c].decode(String.self) }
    func optStr(_ c: String) throws -> String? { try row[c].decode(String?.self) }
    func int(_ c: String) throws -> Int { try row[c].decode(Int.self) }
    func optInt(_ c: String) throws -> Int? { try row[c].decode(Int?.self) }
    func dbl(_ c: String) throws -> Double { try row[c].decode(Double.self) }
    func optDbl(_ c: String) throws -> Double? { try row[c].decode(Double?.self) }
    func flag(_ c: String) throws -> Bool { try int(c) != 0 }
    func date(_ c: String) throws -> Date { Date(timeIntervalSince1970: try dbl(c)) }
    func optDate(_ c: String) throws -> Date? { try optDbl(c).map { Date(timeIntervalSince1970: $0) } }
}

extension Date {
    /// Stored form: Unix seconds.
    var epoch: Double { timeIntervalSince1970 }
}
