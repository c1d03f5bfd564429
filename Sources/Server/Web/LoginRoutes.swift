import Accounts
import Digest
import Foundation
import Hummingbird
import Store

/// Login and logout. The login form has no session yet, so its CSRF token is a double-submit cookie: a page from
/// another origin can neither read the cookie nor set it (SameSite=Strict), so it cannot log a victim in.
func addLoginRoutes(to site: GantryRoutes, web: WebContext) {
    let loginCookie = "gantry_login"
    let throttle = LoginThrottle()

    site.get("/login") { request, context -> Response in
        if context.identity != nil { return redirect("/applications") }
        let token = Digest.randomHex(bytes: 16)
        let storedUsers = try await web.store.users()
        let noUsers = web.accounts.configUsers.isEmpty && storedUsers.isEmpty
        var response = web.page("login", title: "Log in", user: nil,
                                LoginPage(next: safeNext(request.uri.queryParameters.get("next")), noUsers: noUsers, csrf: token),
                                error: request.uri.queryParameters.get("error"))
        response.headers[.setCookie] = "\(loginCookie)=\(token); Path=/login; Max-Age=3600; HttpOnly; SameSite=Strict"
        return response
    }

    site.post("/login") { request, _ -> Response in
        let form = try await readForm(request)
        guard let cookie = request.cookies[loginCookie]?.value, let sent = form["_csrf"], Digest.constantTimeEqual(cookie, sent) else {
            throw Refusal(status: .forbidden, reason: "missing or wrong CSRF token: reload the login page")
        }
        let name = form["username"] ?? "", password = form["password"] ?? ""
        let next = safeNext(form["next"])
        let wrong = redirect("/login?error=" + formEscape("wrong user name or password") + "&next=" + formEscape(next))
        guard !name.isEmpty else { return wrong }
        let keys = LoginThrottle.keys(name: name, client: request.clientAddress)
        let ticket: Double
        switch throttle.admit(keys) {
        case .refused(let seconds):
            var response = problemPage(.tooManyRequests, "too many failed logins for this user or from this address: try again in \(seconds) s")
            response.headers[.retryAfter] = String(seconds)
            return response
        case .admitted(let t):
            ticket = t
        }
        guard let role = try await web.accounts.checkPassword(name: name, password: password) else { return wrong }
        throttle.succeeded(keys, ticket: ticket)
        let secret = try await web.accounts.startSession(user: name, role: role)
        return redirect(next, cookie: Accounts.sessionCookieHeader(secret, maxAge: Int(Accounts.sessionLifetime)))
    }

    site.requiring(.viewer, as: .form).post("/logout") { _, context -> Response in
        if let hash = try context.principal().sessionHash { try await web.store.deleteSession(tokenHash: hash) }
        return redirect("/login", cookie: Accounts.sessionCookieHeader("", maxAge: 0))
    }
}

/// Only a plain path of this site: a login link cannot send the user to another site afterwards. Browsers drop
/// tabs and newlines from a URL and read `\` as `/`, so `/\t/evil.example` would become `//evil.example` (another
/// host): a path with any control character, space, backslash or non-ASCII character is refused, as is one
/// starting with `//`.
private func safeNext(_ next: String?) -> String {
    guard let next, next.hasPrefix("/"), !next.hasPrefix("//"),
          next.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) else { return "/applications" }
    return next
}
