import Accounts
import Digest
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Store

/// API tokens (everyone, for themselves; admins see all) and users (admins).
/// Tokens are everyone's (viewer and up), users are the admins'.
func addAccountPages(to site: GantryRoutes, web: WebContext) {
    addTokenPages(viewerPages: site.requiring(.viewer, as: .page), viewerForms: site.requiring(.viewer, as: .form), web: web)
    addUserPages(adminPages: site.requiring(.admin, as: .page), adminForms: site.requiring(.admin, as: .form), web: web)
}

private func addTokenPages(viewerPages: GantryRoutes, viewerForms: GantryRoutes, web: WebContext) {
    viewerPages.get("/tokens") { _, context -> Response in
        try await tokensPage(web, try context.principal())
    }

    viewerForms.post("/tokens") { _, context -> Response in
        let user = try context.principal(), form = context.form
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 64 else { throw Refusal(status: .badRequest, reason: "a token needs a name (up to 64 characters)") }
        guard let role = Role(rawValue: form["role"] ?? ""), role <= user.role else {
            throw Refusal(status: .forbidden, reason: "a token can hold at most your own role (\(user.role.rawValue))")
        }
        // 256 random bits; only the SHA-256 is stored, and this page is the one time the secret is shown.
        let secret = "gnt_" + Digest.randomHex(bytes: 32)
        _ = try await web.store.createAPIToken(name: name, owner: user.name, role: role,
                                               tokenHash: Digest.sha256Hex(secret), now: Date())
        return try await tokensPage(web, user, created: TokensPage.Created(name: name, secret: secret))
    }

    viewerForms.post("/tokens/:id/revoke") { _, context -> Response in
        let user = try context.principal()
        guard let id = context.parameters.get("id").flatMap(Int64.init),
              try await web.store.revokeAPIToken(id: id, owner: user.role == .admin ? nil : user.name, now: Date()) else {
            throw Refusal(status: .notFound, reason: "no such active token of yours")
        }
        return redirect("/tokens")
    }
}

private func addUserPages(adminPages: GantryRoutes, adminForms: GantryRoutes, web: WebContext) {
    adminPages.get("/users") { request, context -> Response in
        try await usersPage(web, try context.principal(), notice: request.uri.queryParameters.get("notice"))
    }

    adminForms.post("/users") { _, context -> Response in
        let user = try context.principal(), form = context.form
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = form["password"] ?? ""
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw Refusal(status: .badRequest, reason: "a user name is 1 to 64 letters, digits, - _ . @")
        }
        guard password.count >= 8 else { throw Refusal(status: .badRequest, reason: "a password has at least 8 characters") }
        guard let role = Role(rawValue: form["role"] ?? "") else { throw Refusal(status: .badRequest, reason: "unknown role") }
        guard web.accounts.configUsers[name] == nil else { throw Refusal(status: .conflict, reason: "\(name) is defined in the config") }
        let hash = await Task.detached { Bcrypt.hash(password, cost: PasswordHashing.defaultCost) }.value
        guard try await web.store.createUser(UserRecord(name: name, passwordHash: hash, role: role)) else {
            throw Refusal(status: .conflict, reason: "user \(name) exists already")
        }
        return redirect("/users?notice=" + formEscape("added \(name) (\(role.rawValue)) as \(user.name)"))
    }

    adminForms.post("/users/:name/delete") { _, context -> Response in
        let name = context.parameters.get("name") ?? ""
        guard try await web.store.deleteUser(named: name) else { throw Refusal(status: .notFound, reason: "no stored user \(name)") }
        return redirect("/users?notice=" + formEscape("deleted \(name); their sessions ended and tokens were revoked"))
    }
}

private func tokensPage(_ web: WebContext, _ user: Principal, created: TokensPage.Created? = nil,
                        notice: String? = nil) async throws -> Response {
    let list = try await web.store.apiTokens(owner: user.role == .admin ? nil : user.name)
    let model = TokensPage(
        roles: Role.allCases.filter { $0 <= user.role }.map(\.rawValue),
        tokens: list.map { t in
            TokensPage.Token(tokenID: t.id, name: t.name, owner: t.owner, role: t.role.rawValue, created: Show.time(t.createdAt),
                             state: t.revokedAt.map { "revoked \(Show.time($0))" } ?? "active", active: t.revokedAt == nil)
        },
        created: created)
    return web.page("tokens", title: "API tokens", user: user, model, notice: notice)
}

private func usersPage(_ web: WebContext, _ user: Principal, notice: String?) async throws -> Response {
    var rows = web.accounts.configUsers.values.sorted { $0.name < $1.name }.map {
        UsersPage.User(name: $0.name, role: $0.role.rawValue, source: "config file", deletable: false)
    }
    rows += try await web.store.users().map { UsersPage.User(name: $0.name, role: $0.role.rawValue, source: "added in the UI", deletable: true) }
    return web.page("users", title: "Users", user: user, UsersPage(users: rows), notice: notice)
}
