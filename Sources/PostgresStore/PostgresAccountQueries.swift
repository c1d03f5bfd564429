import Foundation
import PostgresNIO
import Store

/// Users, sessions and API tokens (AccountStore) on PostgreSQL: the same rules as the SQLite store's.
extension PostgresStore {
    public func users() async throws -> [UserRecord] {
        try await read { conn in try await self.rows(conn, "SELECT * FROM users ORDER BY name").map(UserRecord.init) }
    }

    public func user(named name: String) async throws -> UserRecord? {
        try await read { conn in try await self.one(conn, "SELECT * FROM users WHERE name = \(name)").map(UserRecord.init) }
    }

    public func createUser(_ user: UserRecord) async throws -> Bool {
        try await write { conn in
            try await self.one(conn, """
                INSERT INTO users (name, password_hash, role, created_at)
                VALUES (\(user.name), \(user.passwordHash), \(user.role.rawValue), \(user.createdAt.epoch))
                ON CONFLICT DO NOTHING RETURNING name
                """) != nil
        }
    }

    public func deleteUser(named name: String) async throws -> Bool {
        try await write { conn in
            let deleted = try await self.one(conn, "DELETE FROM users WHERE name = \(name) RETURNING name") != nil
            try await self.exec(conn, "DELETE FROM sessions WHERE user_name = \(name)")
            try await self.exec(conn, """
                UPDATE api_tokens SET revoked_at = \(Date().epoch) WHERE owner = \(name) AND revoked_at IS NULL
                """)
            return deleted
        }
    }

    public func createSession(_ session: SessionRecord) async throws {
        try await write { conn in
            // Expired sessions go when new ones come: the table stays the size of the active users.
            try await self.exec(conn, "DELETE FROM sessions WHERE expires_at <= \(session.createdAt.epoch)")
            try await self.exec(conn, """
                INSERT INTO sessions (token_hash, user_name, role, created_at, expires_at)
                VALUES (\(session.tokenHash), \(session.user), \(session.role.rawValue), \(session.createdAt.epoch),
                        \(session.expiresAt.epoch))
                """)
        }
    }

    public func session(tokenHash: String, now: Date) async throws -> SessionRecord? {
        try await read { conn in
            try await self.one(conn, "SELECT * FROM sessions WHERE token_hash = \(tokenHash) AND expires_at > \(now.epoch)").map {
                SessionRecord(tokenHash: try $0.str("token_hash"), user: try $0.str("user_name"),
                              role: Role(rawValue: try $0.str("role")) ?? .viewer, createdAt: try $0.date("created_at"),
                              expiresAt: try $0.date("expires_at"))
            }
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await write { conn in try await self.exec(conn, "DELETE FROM sessions WHERE token_hash = \(tokenHash)") }
    }

    public func createAPIToken(name: String, owner: String, role: Role, tokenHash: String, now: Date) async throws -> Int64 {
        try await write { conn in
            Int64(try await self.one(conn, """
                INSERT INTO api_tokens (name, owner, role, token_hash, created_at)
                VALUES (\(name), \(owner), \(role.rawValue), \(tokenHash), \(now.epoch)) RETURNING id
                """)!.int("id"))
        }
    }

    public func apiTokens(owner: String?) async throws -> [APITokenRecord] {
        try await read { conn in
            try await self.rows(conn, """
                SELECT * FROM api_tokens WHERE (\(owner)::text IS NULL OR owner = \(owner)) ORDER BY id DESC
                """).map(APITokenRecord.init)
        }
    }

    public func apiToken(tokenHash: String) async throws -> APITokenRecord? {
        try await read { conn in
            try await self.one(conn, "SELECT * FROM api_tokens WHERE token_hash = \(tokenHash) AND revoked_at IS NULL")
                .map(APITokenRecord.init)
        }
    }

    public func revokeAPIToken(id: Int64, owner: String?, now: Date) async throws -> Bool {
        try await write { conn in
            try await self.one(conn, """
                UPDATE api_tokens SET revoked_at = \(now.epoch)
                WHERE id = \(Int(id)) AND (\(owner)::text IS NULL OR owner = \(owner)) AND revoked_at IS NULL RETURNING id
                """) != nil
        }
    }
}

extension UserRecord {
    init(_ c: Cells) throws {
        self.init(name: try c.str("name"), passwordHash: try c.str("password_hash"),
                  role: Role(rawValue: try c.str("role")) ?? .viewer, createdAt: try c.date("created_at"))
    }
}

extension APITokenRecord {
    init(_ c: Cells) throws {
        self.init(id: Int64(try c.int("id")), name: try c.str("name"), owner: try c.str("owner"),
                  role: Role(rawValue: try c.str("role")) ?? .viewer, tokenHash: try c.str("token_hash"),
                  createdAt: try c.date("created_at"), revokedAt: try c.optDate("revoked_at"))
    }
}
