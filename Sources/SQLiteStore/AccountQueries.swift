import Foundation
import GRDB
import Store

/// Users, sessions and API tokens (AccountStore).
extension SQLiteStore {
    public func users() async throws -> [UserRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").map(UserRecord.init(row:)) }
    }

    public func user(named name: String) async throws -> UserRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map(UserRecord.init(row:))
        }
    }

    public func createUser(_ user: UserRecord) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO users (name, password_hash, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [user.name, user.passwordHash, user.role.rawValue, user.createdAt.unix])
            return db.changesCount == 1
        }
    }

    public func deleteUser(named name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM users WHERE name = ?", arguments: [name])
            let deleted = db.changesCount == 1
            try db.execute(sql: "DELETE FROM sessions WHERE user_name = ?", arguments: [name])
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE owner = ? AND revoked_at IS NULL",
                           arguments: [Date().unix, name])
            return deleted
        }
    }

    public func createSession(_ session: SessionRecord) async throws {
        try await pool.write { db in
            // Expired sessions go when new ones come: the table stays the size of the active users.
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at <= ?", arguments: [session.createdAt.unix])
            try db.execute(sql: """
                INSERT INTO sessions (token_hash, user_name, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [session.tokenHash, session.user, session.role.rawValue, session.createdAt.unix,
                                 session.expiresAt.unix])
        }
    }

    public func session(tokenHash: String, now: Date) async throws -> SessionRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE token_hash = ? AND expires_at > ?",
                             arguments: [tokenHash, now.unix]).map {
                SessionRecord(tokenHash: $0["token_hash"], user: $0["user_name"], role: Role(rawValue: $0["role"]) ?? .viewer,
                              createdAt: date($0["created_at"])!, expiresAt: date($0["expires_at"])!)
            }
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [tokenHash]) }
    }

    public func createAPIToken(name: String, owner: String, role: Role, tokenHash: String, now: Date) async throws -> Int64 {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO api_tokens (name, owner, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [name, owner, role.rawValue, tokenHash, now.unix])
            return db.lastInsertedRowID
        }
    }

    public func apiTokens(owner: String?) async throws -> [APITokenRecord] {
        try await pool.read { db in
            if let owner {
                return try Row.fetchAll(db, sql: "SELECT * FROM api_tokens WHERE owner = ? ORDER BY id DESC",
                                        arguments: [owner]).map(APITokenRecord.init(row:))
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM api_tokens ORDER BY id DESC").map(APITokenRecord.init(row:))
        }
    }

    public func apiToken(tokenHash: String) async throws -> APITokenRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                             arguments: [tokenHash]).map(APITokenRecord.init(row:))
        }
    }

    public func revokeAPIToken(id: Int64, owner: String?, now: Date) async throws -> Bool {
        try await pool.write { db in
            if let owner {
                try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND owner = ? AND revoked_at IS NULL",
                               arguments: [now.unix, id, owner])
            } else {
                try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                               arguments: [now.unix, id])
            }
            return db.changesCount == 1
        }
    }
}

extension UserRecord {
    init(row: Row) {
        self.init(name: row["name"], passwordHash: row["password_hash"], role: Role(rawValue: row["role"]) ?? .viewer,
                  createdAt: date(row["created_at"])!)
    }
}

extension APITokenRecord {
    init(row: Row) {
        self.init(id: row["id"], name: row["name"], owner: row["owner"], role: Role(rawValue: row["role"]) ?? .viewer,
                  tokenHash: row["token_hash"], createdAt: date(row["created_at"])!, revokedAt: date(row["revoked_at"]))
    }
}

func labelsJSON(_ labels: [String: String]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return (try? String(decoding: encoder.encode(labels), as: UTF8.self)) ?? "{}"
}
