import Foundation

/// Who may do what, from least to most. Viewers read; editors also sync, approve, cancel and skip;
/// admins also manage users and everyone's API tokens.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case viewer, editor, admin

    private var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// A user created in the web UI (config users live in the config file, not here).
public struct UserRecord: Codable, Sendable, Equatable {
    public var name: String
    public var passwordHash: String        // bcrypt
    public var role: Role
    public var createdAt: Date
    public init(name: String, passwordHash: String, role: Role, createdAt: Date = Date()) {
        self.name = name; self.passwordHash = passwordHash; self.role = role; self.createdAt = createdAt
    }
}

/// A browser session. Only the SHA-256 of the cookie's value is stored: a copy of the database opens no session.
public struct SessionRecord: Codable, Sendable, Equatable {
    public var tokenHash: String
    public var user: String
    public var role: Role
    public var createdAt: Date
    public var expiresAt: Date
    public init(tokenHash: String, user: String, role: Role, createdAt: Date, expiresAt: Date) {
        self.tokenHash = tokenHash; self.user = user; self.role = role; self.createdAt = createdAt; self.expiresAt = expiresAt
    }
}

/// An API token created in the UI. Shown once; only its SHA-256 is stored. Acts as `owner` with `role`.
public struct APITokenRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var owner: String
    public var role: Role
    public var tokenHash: String
    public var createdAt: Date
    public var revokedAt: Date?
    public init(id: Int64, name: String, owner: String, role: Role, tokenHash: String, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id; self.name = name; self.owner = owner; self.role = role; self.tokenHash = tokenHash
        self.createdAt = createdAt; self.revokedAt = revokedAt
    }
}

/// Accounts: stored users, sessions and API tokens. Plain rows and single-row statements, so a PostgreSQL
/// store implements it with the same SQL.
public protocol AccountStore: Sendable {
    func users() async throws -> [UserRecord]
    func user(named name: String) async throws -> UserRecord?
    /// Creates the user; false when the name is taken.
    func createUser(_ user: UserRecord) async throws -> Bool
    /// Deletes the user with their sessions and tokens; false when there was none.
    func deleteUser(named name: String) async throws -> Bool

    func createSession(_ session: SessionRecord) async throws
    /// The session with this hash, if it has not expired at `now`.
    func session(tokenHash: String, now: Date) async throws -> SessionRecord?
    func deleteSession(tokenHash: String) async throws

    /// Stores a new token; returns its id.
    func createAPIToken(name: String, owner: String, role: Role, tokenHash: String, now: Date) async throws -> Int64
    /// Tokens of `owner` (all owners when nil), newest first, revoked ones included.
    func apiTokens(owner: String?) async throws -> [APITokenRecord]
    /// The unrevoked token with this hash.
    func apiToken(tokenHash: String) async throws -> APITokenRecord?
    /// Revokes a token (of `owner`, unless nil); false when none matched or it was already revoked.
    func revokeAPIToken(id: Int64, owner: String?, now: Date) async throws -> Bool
}
