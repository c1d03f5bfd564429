import Digest
import Foundation
import HummingbirdBcrypt
import Store

/// Accounts: config tokens and users (static), plus users, sessions and API tokens in the store. Secrets are
/// kept only as digests (SHA-256 for random tokens, bcrypt for passwords); compares are constant-time.
public struct Accounts: Sendable {
    struct ConfigToken: Sendable { var name: String; var role: Role; var digest: [UInt8] }
    public struct ConfigUser: Sendable {
        public var name: String
        public var role: Role
        public var passwordHash: String
        public init(name: String, role: Role, passwordHash: String) { self.name = name; self.role = role; self.passwordHash = passwordHash }
    }

    let store: any AccountStore
    let tokens: [ConfigToken]
    public let configUsers: [String: ConfigUser]
    /// With no tokens and no users configured the API is open (as admin), and only on a loopback listener.
    public let open: Bool
    public static let sessionCookie = "gantry_session"
    public static let sessionLifetime: TimeInterval = 12 * 3600

    /// What an unknown name's password is checked against, at the cost known names' hashes have.
    let decoyHash: String

    public init(store: any AccountStore, tokens: [(name: String, secret: String, role: Role)], users: [ConfigUser]) {
        self.store = store
        self.tokens = tokens.map { ConfigToken(name: $0.name, role: $0.role, digest: Digest.sha256($0.secret)) }
        configUsers = Dictionary(users.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        open = tokens.isEmpty && users.isEmpty
        decoyHash = Accounts.decoyHash(cost: Accounts.decoyCost(users.map(\.passwordHash)))
    }

    /// An API caller by the `Authorization` header's bearer token (a config token, or one created in the UI).
    /// nil: no bearer token was presented. A token that is presented and not valid is refused outright.
    public func principal(authorization header: String?) async throws -> Principal? {
        if open { return Principal(name: "anonymous", role: .admin, via: .openLoopback) }
        guard let header, header.hasPrefix("Bearer ") else { return nil }
        let secret = String(header.dropFirst(7))
        let presented = Digest.sha256(secret)
        var found: Principal? = nil
        for entry in tokens where presented.count == 32 && Digest.constantTimeEqual(entry.digest, presented) {
            found = Principal(name: entry.name, role: entry.role, via: .token)
        }
        if found == nil, let stored = try await store.apiToken(tokenHash: Digest.hex(presented)) {
            // A UI token acts as its owner (approvals are recorded with the person's name) and never with more than
            // the owner holds now: a removed owner's tokens stop at once, a demoted owner's shrink with them.
            guard let current = try await currentRole(of: stored.owner) else {
                throw AuthFailure(kind: .unauthenticated, reason: "the owner of this token, \(stored.owner), is no longer a user")
            }
            found = Principal(name: stored.owner, role: min(stored.role, current), via: .token)
        }
        guard let who = found else { throw AuthFailure(kind: .unauthenticated, reason: AuthFailure.bearerRequired) }
        return who
    }

    /// The browser session named by the session cookie's value, if any.
    public func principal(sessionCookie value: String?) async throws -> Principal? {
        guard let value, !value.isEmpty else { return nil }
        let hash = Digest.sha256Hex(value)
        guard let s = try await store.session(tokenHash: hash, now: Date()) else { return nil }
        // The role as it is now, not as it was at login: a user removed from the config (or demoted there) loses
        // the session's rights at once.
        guard let role = try await currentRole(of: s.user) else { return nil }
        return Principal(name: s.user, role: role, via: .session(hash: hash, csrf: Accounts.csrfToken(forSession: value)))
    }

    /// A user's role as the config and the store say now (the config wins); nil when there is no such user.
    public func currentRole(of name: String) async throws -> Role? {
        if let user = configUsers[name] { return user.role }
        return try await store.user(named: name)?.role
    }

    /// The form token of a session: derived from the cookie's secret, so it is never stored and a page from
    /// another origin cannot know it.
    public static func csrfToken(forSession secret: String) -> String { Digest.sha256Hex("csrf:\(secret)") }

    /// Checks a password against config users first, then stored users. bcrypt runs off the event loop.
    public func checkPassword(name: String, password: String) async throws -> Role? {
        let hash: String, role: Role
        if let user = configUsers[name] {
            hash = user.passwordHash; role = user.role
        } else if let user = try await store.user(named: name) {
            hash = user.passwordHash; role = user.role
        } else {
            // The same work for an unknown name: response time does not tell which names exist.
            let decoy = decoyHash
            _ = await Task.detached { Bcrypt.verify(password, hash: decoy) }.value
            return nil
        }
        let ok = await Task.detached { Bcrypt.verify(password, hash: hash) }.value
        return ok ? role : nil
    }

    /// Starts a session; returns the cookie's secret value.
    public func startSession(user: String, role: Role) async throws -> String {
        let secret = Digest.randomHex(bytes: 32)
        let now = Date()
        try await store.createSession(SessionRecord(tokenHash: Digest.sha256Hex(secret), user: user, role: role,
                                                    createdAt: now, expiresAt: now.addingTimeInterval(Accounts.sessionLifetime)))
        return secret
    }

    public static func sessionCookieHeader(_ value: String, maxAge: Int) -> String {
        "\(sessionCookie)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
    }

    /// The cost of the hashes an unknown name stands in for: the most common among the config's users (the higher
    /// on a tie), else the one `gantry hash-password` and the Users page use.
    public static func decoyCost(_ hashes: [String]) -> UInt8 {
        var counts: [UInt8: Int] = [:]
        for hash in hashes { if let cost = bcryptCost(hash) { counts[cost, default: 0] += 1 } }
        return counts.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key ?? PasswordHashing.defaultCost
    }

    /// A bcrypt hash that no password matches, at `cost`: a cheap hash of a random string with the cost field
    /// rewritten (checking against it takes what checking against any hash of that cost takes).
    public static func decoyHash(cost: UInt8) -> String {
        let cheap = Bcrypt.hash(Digest.randomHex(bytes: 16), cost: 4)   // $2b$04$<22 salt><31 digest>
        return String(cheap.prefix(4)) + String(format: "%02d", Int(cost)) + String(cheap.dropFirst(6))
    }

    /// The cost field of a `$2a$`/`$2b$`/`$2y$` hash.
    public static func bcryptCost(_ hash: String) -> UInt8? {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, parts[1].hasPrefix("2"), let cost = UInt8(parts[2]), (4...31).contains(cost) else {
            return nil
        }
        return cost
    }
}

/// How passwords are hashed when Gantry makes the hash.
public enum PasswordHashing {
    /// `gantry hash-password`'s cost (and the Users page's): about a quarter second per check.
    public static let defaultCost: UInt8 = 12
}

/// `gantry hash-password`: the bcrypt hash to put in a config's `users:`.
public func bcryptHash(_ password: String, cost: UInt8 = PasswordHashing.defaultCost) -> String { Bcrypt.hash(password, cost: cost) }
