import Foundation
import SQLKit
import Store

/// Users, sessions and API tokens (AccountStore).
extension SQLBackedStore {
    public func users() async throws -> [UserRecord] {
        try await read { db in try await db.rows("SELECT * FROM users ORDER BY name").map(UserRecord.init) }
    }

    public func user(named name: String) async throws -> UserRecord? {
        try await read { db in try await db.one("SELECT * FROM users WHERE name = \(bind: name)").map(UserRecord.init) }
    }

    public func createUser(_ user: UserRecord) async throws -> Bool {
        try await write { db in
            try await db.one("""
                INSERT INTO users (name, password_hash, role, created_at)
                VALUES (\(bind: user.name), \(bind: user.passwordHash), \(bind: user.role.rawValue), \(bind: user.createdAt.epoch))
                ON CONFLICT DO NOTHING RETURNING name
                """) != nil
        }
    }

    public func deleteUser(named name: String) async throws -> Bool {
        try await write { db in
            let deleted = try await db.one("DELETE FROM users WHERE name = \(bind: name) RETURNING name") != nil
            try await db.exec("DELETE FROM sessions WHERE user_name = \(bind: name)")
            try await db.exec("""
                UPDATE api_tokens SET revoked_at = \(bind: Date().epoch) WHERE owner = \(bind: name) AND revoked_at IS NULL
                """)
            return deleted
        }
    }

    public func createSession(_ session: SessionRecord) async throws {
        try await write { db in
            // Expired sessions go when new ones come: the table stays the size of the active users.
            try await db.exec("DELETE FROM sessions WHERE expires_at <= \(bind: session.createdAt.epoch)")
            try await db.exec("""
                INSERT INTO sessions (token_hash, user_name, role, created_at, expires_at)
                VALUES (\(bind: session.tokenHash), \(bind: session.user), \(bind: session.role.rawValue), \(bind: session.createdAt.epoch),
                        \(bind: session.expiresAt.epoch))
                """)
        }
    }

    public func session(tokenHash: String, now: Date) async throws -> SessionRecord? {
        try await read { db in
            try await db.one("SELECT * FROM sessions WHERE token_hash = \(bind: tokenHash) AND expires_at > \(bind: now.epoch)").map {
                SessionRecord(tokenHash: try $0.str("token_hash"), user: try $0.str("user_name"),
                              role: try $0.value("role", as: Role.self), createdAt: try $0.date("created_at"),
                              expiresAt: try $0.date("expires_at"))
            }
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await write { db in try await db.exec("DELETE FROM sessions WHERE token_hash = \(bind: tokenHash)") }
    }

    public func createAPIToken(name: String, owner: String, role: Role, tokenHash: String, now: Date) async throws -> Int64 {
        try await write { db in
            Int64(try await db.one("""
                INSERT INTO api_tokens (name, owner, role, token_hash, created_at)
                VALUES (\(bind: name), \(bind: owner), \(bind: role.rawValue), \(bind: tokenHash), \(bind: now.epoch)) RETURNING id
                """)!.int("id"))
        }
    }

    public func apiTokens(owner: String?) async throws -> [APITokenRecord] {
        try await read { db in
            try await db.rows("""
                SELECT * FROM api_tokens WHERE 1 = 1 \(ownerFilter(owner)) ORDER BY id DESC
                """).map(APITokenRecord.init)
        }
    }

    public func apiToken(tokenHash: String) async throws -> APITokenRecord? {
        try await read { db in
            try await db.one("SELECT * FROM api_tokens WHERE token_hash = \(bind: tokenHash) AND revoked_at IS NULL")
                .map(APITokenRecord.init)
        }
    }

    public func revokeAPIToken(id: Int64, owner: String?, now: Date) async throws -> Bool {
        try await write { db in
            try await db.one("""
                UPDATE api_tokens SET revoked_at = \(bind: now.epoch)
                WHERE id = \(bind: Int(id)) \(ownerFilter(owner)) AND revoked_at IS NULL RETURNING id
                """) != nil
        }
    }
}

extension UserRecord {
    init(_ c: Cells) throws {
        self.init(name: try c.str("name"), passwordHash: try c.str("password_hash"),
                  role: try c.value("role", as: Role.self), createdAt: try c.date("created_at"))
    }
}

extension APITokenRecord {
    init(_ c: Cells) throws {
        self.init(id: Int64(try c.int("id")), name: try c.str("name"), owner: try c.str("owner"),
                  role: try c.value("role", as: Role.self), tokenHash: try c.str("token_hash"),
                  createdAt: try c.date("created_at"), revokedAt: try c.optDate("revoked_at"))
    }
}

/// `AND owner = ?` when an owner is named, nothing otherwise.
private func ownerFilter(_ owner: String?) -> SQLQueryString {
    owner.map { "AND owner = \(bind: $0)" } ?? ""
}
