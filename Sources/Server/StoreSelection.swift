import Foundation
import Logging
import PostgresStore
import SQLiteStore
import Store

/// `server.database`: `sqlite` (default: the file under dataDir), `sqlite:PATH`, or a PostgreSQL URL given as
/// itself, `env:NAME` or `file:PATH` (the URL carries a password, so it is never inline in production).
public enum StoreSelection: Equatable, Sendable {
    case sqlite(path: String)
    case postgres(url: String)

    public static func parse(_ setting: String?, dataDir: String) throws -> StoreSelection {
        let raw = setting?.trimmingCharacters(in: .whitespaces) ?? "sqlite"
        if raw.isEmpty || raw == "sqlite" { return .sqlite(path: DataLayout.database(dataDir)) }
        if raw.hasPrefix("sqlite:") { return .sqlite(path: String(raw.dropFirst("sqlite:".count))) }
        let value = raw.hasPrefix("env:") || raw.hasPrefix("file:") ? try SecretReference.resolve(raw) : raw
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") { return .postgres(url: value) }
        throw ServerConfig.Invalid(description:
            "server.database: expected sqlite, sqlite:PATH or a postgres:// URL (inline, env:NAME or file:PATH), got \(raw.hasPrefix("env:") || raw.hasPrefix("file:") ? raw + " (resolved to something else)" : raw)")
    }

    public func open(logger: Logger) async throws -> any Store {
        switch self {
        case .sqlite(let path): return try SQLiteStore(path: path)
        case .postgres(let url):
            do { return try await PostgresStore(url: url, logger: logger) } catch {
                throw ServerConfig.Invalid(description: "cannot open PostgreSQL \(PostgresStore.redacted(url)): \(String(reflecting: error))")
            }
        }
    }
}

/// A replica's stable name: `--replica-id`, else the one kept in `<dataDir>/replica-id` (made on first start
/// from the host name and a random suffix, so two replicas on one host differ).
enum ReplicaIdentity {
    static func resolve(explicit: String?, dataDir: String) throws -> String {
        if let explicit, !explicit.isEmpty {
            guard !explicit.contains("/") else { throw ServerConfig.Invalid(description: "--replica-id must not contain '/'") }
            return explicit
        }
        let file = dataDir + "/replica-id"
        if let kept = try? String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           !kept.isEmpty { return kept }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "gantry"
        let id = "\(host.replacingOccurrences(of: "/", with: "-"))-\(UUID().uuidString.prefix(8).lowercased())"
        try id.write(toFile: file, atomically: true, encoding: .utf8)
        return id
    }
}
