import Accounts
import Store

extension Accounts {
    /// From the config: tokens (role default admin, so tokens from before roles keep every right) and users,
    /// whose password hashes may be `env:`/`file:` references.
    init(store: any AccountStore, config c: ServerConfig) throws {
        let tokens = try (c.server.tokens ?? []).map {
            (name: $0.name, secret: try SecretReference.resolve($0.secret), role: Role(rawValue: $0.role ?? "admin") ?? .admin)
        }
        let users = try (c.users ?? []).map { user -> ConfigUser in
            let hash = try SecretReference.resolve(user.passwordHash)
            guard hash.hasPrefix("$2") else {
                throw ServerConfig.Invalid(description: "user \(user.name): passwordHash is not a bcrypt hash (make one with `gantry hash-password`)")
            }
            return ConfigUser(name: user.name, role: Role(rawValue: user.role ?? "viewer") ?? .viewer, passwordHash: hash)
        }
        self.init(store: store, tokens: tokens, users: users)
    }
}
