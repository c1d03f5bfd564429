import Foundation
import Hummingbird
import HummingbirdBcrypt
import Store

/// API tokens (everyone, for themselves; admins see all) and users (admins).
func addAccountPages(to router: Router<BasicRequestContext>, web: WebContext) {
    router.get("/tokens") { request, _ -> Response in
        try await tokensPage(web, try await web.requireUser(.viewer, request))
    }

    router.post("/tokens") { request, _ -> Response in
        let (user, form) = try await web.requireForm(.viewer, request)
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 64 else { throw Refusal(status: .badRequest, reason: "a token needs a name (up to 64 characters)") }
        guard let role = Role(rawValue: form["role"] ?? ""), role <= user.role else {
            throw Refusal(status: .forbidden, reason: "a token can hold at most your own role (\(user.role.rawValue))")
        }
        // 256 random bits; only the SHA-256 is stored, and this page is the one time the secret is shown.
        let secret = "gnt_" + randomHex(32)
        _ = try await web.store.createAPIToken(name: name, owner: user.name, role: role,
                                               tokenHash: hexString(sha256(Array(secret.utf8))), now: Date())
        return try await tokensPage(web, user, created: ["name": name, "secret": secret])
    }

    router.post("/tokens/:id/revoke") { request, context -> Response in
        let (user, _) = try await web.requireForm(.viewer, request)
        guard let id = context.parameters.get("id").flatMap(Int64.init),
              try await web.store.revokeAPIToken(id: id, owner: user.role == .admin ? nil : user.name, now: Date()) else {
            throw Refusal(status: .notFound, reason: "no such active token of yours")
        }
        return redirect("/tokens")
    }

    router.get("/users") { request, _ -> Response in
        let user = try await web.requireUser(.admin, request)
        return try await usersPage(web, user, notice: request.uri.queryParameters.get("notice"))
    }

    router.post("/users") { request, _ -> Response in
        let (user, form) = try await web.requireForm(.admin, request)
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

    router.post("/users/:name/delete") { request, context -> Response in
        _ = try await web.requireForm(.admin, request)
        let name = context.parameters.get("name") ?? ""
        guard try await web.store.deleteUser(named: name) else { throw Refusal(status: .notFound, reason: "no stored user \(name)") }
        return redirect("/users?notice=" + formEscape("deleted \(name); their sessions ended and tokens were revoked"))
    }
}

private func tokensPage(_ web: WebContext, _ user: Identity, created: [String: Any]? = nil, notice: String? = nil) async throws -> Response {
    let list = try await web.store.apiTokens(owner: user.role == .admin ? nil : user.name)
    var values: [String: Any] = [
        "roles": Role.allCases.filter { $0 <= user.role }.map(\.rawValue),
        "tokens": list.map { t -> [String: Any] in
            ["tokenID": t.id, "name": t.name, "owner": t.owner, "role": t.role.rawValue, "created": Show.time(t.createdAt),
             "state": t.revokedAt.map { "revoked \(Show.time($0))" } ?? "active", "active": t.revokedAt == nil]
        },
    ]
    if let created { values["created"] = created }
    return web.page("tokens", title: "API tokens", user: user, values, notice: notice)
}

private func usersPage(_ web: WebContext, _ user: Identity, notice: String?) async throws -> Response {
    var rows: [[String: Any]] = web.accounts.configUsers.values.sorted { $0.name < $1.name }.map {
        ["name": $0.name, "role": $0.role.rawValue, "source": "config file", "deletable": false]
    }
    rows += try await web.store.users().map { ["name": $0.name, "role": $0.role.rawValue, "source": "added in the UI", "deletable": true] }
    return web.page("users", title: "Users", user: user, ["users": rows], notice: notice)
}

/// `gantry hash-password`: the bcrypt hash to put in a config's `users:`.
public func bcryptHash(_ password: String, cost: UInt8 = PasswordHashing.defaultCost) -> String { Bcrypt.hash(password, cost: cost) }
