import Accounts
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
    func page<Model: PageModel>(_ template: String, title: String, user: Principal?, _ model: Model, notice: String? = nil,
                                error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var model = model
        if let user { model.csrf = user.csrf ?? "" }
        let content = library.render(model, withTemplate: template) ?? ""
        let layout = LayoutModel(title: title, content: content,
                                 user: user.map { LayoutModel.User(name: $0.name, role: $0.role.rawValue, isAdmin: $0.role == .admin,
                                                                   csrf: $0.csrf ?? "") },
                                 notice: notice?.isEmpty == false ? notice : nil, error: error?.isEmpty == false ? error : nil)
        return html(library.render(layout, withTemplate: "layout") ?? "", status: status)
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

    static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", maxSplits: 1).first ?? "")
    }
}
