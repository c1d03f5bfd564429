import Foundation
import FunctionKit
import HTTPTypes
import Hummingbird
import Ingress
import Mustache
import Store

/// What the web UI's handlers share: the store, accounts, the API's context (for its actions) and the templates.
struct WebContext: Sendable {
    let store: any Store
    let accounts: Accounts
    let api: APIContext
    let ingress: Ingress
    let library: MustacheLibrary

    var actions: DeploymentActions { DeploymentActions(store: store, wakeEngine: api.wakeEngine) }

    /// Renders a page inside the layout.
    func page(_ template: String, title: String, user: Identity?, _ values: [String: Any], notice: String? = nil,
              error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var values = values
        if let user { values["csrf"] = user.csrf ?? "" }
        let content = library.render(values, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "content": content]
        if let user {
            layout["user"] = ["name": user.name, "role": user.role.rawValue, "isAdmin": user.role == .admin,
                              "csrf": user.csrf ?? ""] as [String: Any]
        }
        if let notice, !notice.isEmpty { layout["notice"] = notice }
        if let error, !error.isEmpty { layout["error"] = error }
        return html(library.render(layout, withTemplate: "layout") ?? "", status: status)
    }

    /// The signed-in user holding at least `role`, or a redirect to the login page (403 when the role is short).
    func requireUser(_ role: Role, _ request: Request) async throws -> Identity {
        guard let user = try await accounts.session(request) else {
            let next = request.method == .get ? request.uri.path : "/applications"
            throw WebRedirect(location: "/login?next=" + formEscape(next))
        }
        guard user.role >= role else {
            throw Refusal(status: .forbidden, reason: "\(user.name) is a \(user.role.rawValue); this needs \(role.rawValue)")
        }
        return user
    }

    /// A form post: the signed-in user holding `role`, with the session's CSRF token in `_csrf`.
    func requireForm(_ role: Role, _ request: Request) async throws -> (Identity, [String: String]) {
        let form = try await readForm(request)
        guard let user = try await accounts.session(request) else {
            throw Refusal(status: .unauthorized, reason: "not signed in")
        }
        guard let expected = user.csrf, let sent = form["_csrf"], constantTimeEqual(expected, sent) else {
            throw Refusal(status: .forbidden, reason: "missing or wrong CSRF token: reload the page and try again")
        }
        guard user.role >= role else {
            throw Refusal(status: .forbidden, reason: "\(user.name) is a \(user.role.rawValue); this needs \(role.rawValue)")
        }
        return (user, form)
    }
}

/// A 303 to another page, thrown from a handler.
struct WebRedirect: HTTPResponseError {
    let location: String
    var status: HTTPResponse.Status { .seeOther }
    func response(from request: Request, context: some RequestContext) throws -> Response { redirect(location) }
}

func redirect(_ location: String, cookie: String? = nil) -> Response {
    var headers = HTTPFields()
    headers[.location] = location
    if let cookie { headers[.setCookie] = cookie }
    return Response(status: .seeOther, headers: headers)
}

func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/html; charset=utf-8"
    headers[.cacheControl] = "no-store"
    // Pages are never framed (clickjacking) and load scripts and styles from this server only.
    headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
    headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
}

/// `application/x-www-form-urlencoded` body to a dictionary (the first value of a repeated name wins).
func readForm(_ request: Request, limit: Int = 64 << 10) async throws -> [String: String] {
    let buffer = try await request.body.collect(upTo: limit)
    return parseForm(String(buffer: buffer))
}

func parseForm(_ text: String) -> [String: String] {
    var out: [String: String] = [:]
    for pair in text.split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
        let name = decode(parts[0])
        if out[name] == nil { out[name] = parts.count > 1 ? decode(parts[1]) : "" }
    }
    return out
}

func formEscape(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~/")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
}

enum Show {
    static func time(_ date: Date?) -> String {
        guard let date else { return "" }
        // gmtime_r rather than a date formatter: a history page formats a few hundred of these.
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d UTC", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Durations as the engine writes them (DurationText: "1m20s", "350ms").
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds >= 0 else { return "" }
        return DurationText.format(seconds)
    }

    static func commit(_ c: String?) -> String { String((c ?? "").prefix(8)) }
}
