import Foundation
import HTTPTypes
import Hummingbird

/// Keeps web pages of other sites from driving the server through a visitor's browser. A browser lets any page
/// send a "simple" cross-origin request (a form or `text/plain` POST) without asking the server first, and a page
/// whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) even reads the answers. So, for everything but the
/// webhooks (which Git hosts post from their own sites, signed) and the callbacks (whose URL carries a single-use
/// token no other page can know, called by outside systems that are not browsers):
/// - in open mode (no tokens, no users: the API acts as admin for whoever reaches it) the `Host` must be this
///   server's: its listen address, a loopback name, `server.externalURL`'s host or one of `server.allowedHosts`
///   (421 otherwise): a rebinding page's requests carry its own name;
/// - a request with an `Origin` that is not this server's own is refused (403): browsers send `Origin` with every
///   cross-origin request that could change something, and with every form post;
/// - API writes must say `Content-Type: application/json` (415 otherwise): no page can send that cross-origin
///   without a CORS preflight, which this server never grants.
struct OriginGuard<Context: RequestContext>: RouterMiddleware {
    let policy: OriginPolicy
    static var callbacks: String { "/api/v1/callbacks/" }

    init(server: ServerConfig.Server, open: Bool) { policy = OriginPolicy(server: server, open: open) }

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix("/hooks/") || path.hasPrefix(OriginGuard.callbacks) { return try await next(request, context) }
        let refusal = policy.refusal(method: request.method, path: path, authority: request.head.authority,
                                     extraHost: request.headers[OriginPolicy.hostField] != nil,
                                     origin: request.headers[.origin], contentType: request.headers[.contentType])
        guard let refusal else { return try await next(request, context) }
        return path.hasPrefix("/api/") ? problem(refusal.status, refusal.reason) : problemPage(refusal.status, refusal.reason)
    }
}

/// The rules `OriginGuard` applies, apart from HTTP so they can be checked directly.
struct OriginPolicy: Sendable {
    /// A host name (lower-cased, without brackets or a trailing dot) and a port; a nil port matches any.
    struct Address: Sendable, Equatable {
        var host: String
        var port: Int?
    }

    /// A Host header left among the fields: HTTP/1 decoding moves the first one to the request's authority.
    static let hostField = HTTPField.Name("Host")!

    let open: Bool
    let listenHost: String
    /// Nil when the config says port 0 (the system picks it): any port is this server's then.
    let listenPort: Int?
    let external: (scheme: String, address: Address)?
    let allowed: [Address]

    init(server: ServerConfig.Server, open: Bool) {
        self.open = open
        let listen = HostPort(server.listen)
        listenHost = Self.normalized(listen?.host ?? "127.0.0.1")
        listenPort = listen.flatMap { $0.port == 0 ? nil : $0.port }
        if let url = server.externalURL, let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(),
           let host = u.host, !host.isEmpty {
            external = (scheme, Address(host: Self.normalized(host), port: u.port ?? (scheme == "https" ? 443 : 80)))
        } else {
            external = nil
        }
        allowed = (server.allowedHosts ?? []).compactMap(Self.address)
    }

    struct Refusal: Sendable, Equatable {
        var status: HTTPResponse.Status
        var reason: String
    }

    /// Why this request is refused, or nil. `authority` is the request's Host; `extraHost` says it had a second one.
    func refusal(method: HTTPRequest.Method, path: String, authority: String?, extraHost: Bool = false,
                 origin: String?, contentType: String?) -> Refusal? {
        if open {
            if extraHost { return Refusal(status: .badRequest, reason: "more than one Host header") }
            if let authority, !hostAccepted(authority) {
                return Refusal(status: .misdirectedRequest,
                               reason: "Host \(String(reflecting: String(authority.prefix(100)))) is not this server's address "
                                   + "(the API is open without tokens, so only its listen address and loopback names are "
                                   + "served; list other names in server.allowedHosts)")
            }
        }
        if let origin, !originAccepted(origin) {
            return Refusal(status: .forbidden,
                           reason: "cross-origin request refused: Origin \(String(reflecting: String(origin.prefix(100)))) is not "
                               + "this server's (set server.externalURL or server.allowedHosts to the address browsers use)")
        }
        if path.hasPrefix("/api/"), [.post, .put, .patch, .delete].contains(method), !Self.isJSON(contentType) {
            return Refusal(status: .unsupportedMediaType,
                           reason: "API writes need Content-Type: application/json (got \(contentType.map { String(reflecting: String($0.prefix(100))) } ?? "none"))")
        }
        return nil
    }

    /// A Host this server answers to in open mode: a loopback name (any port: no outside site can own one), the
    /// listen host, externalURL's host, or an allowed host.
    func hostAccepted(_ authority: String) -> Bool {
        guard let a = Self.address(authority) else { return false }
        if Self.isLoopback(a.host) || a.host == listenHost || a.host == external?.address.host { return true }
        return allowed.contains { $0.host == a.host && ($0.port == nil || $0.port == a.port) }
    }

    /// An Origin this server's own pages have: externalURL's, the listen address's (and a loopback name's at the
    /// listen port when the server listens there), or an allowed host's. `null` (sandboxed frames, file: pages)
    /// is not.
    func originAccepted(_ origin: String) -> Bool {
        guard let separator = origin.range(of: "://") else { return false }
        let scheme = origin[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https", var a = Self.address(String(origin[separator.upperBound...])) else {
            return false
        }
        if a.port == nil { a.port = scheme == "https" ? 443 : 80 }
        if let external, external.scheme == scheme, external.address == a { return true }
        if scheme == "http", listenPort == nil || a.port == listenPort {
            let wildcard = ["0.0.0.0", "::", ""].contains(listenHost)
            if a.host == listenHost && !wildcard { return true }
            if Self.isLoopback(a.host) && (wildcard || Self.isLoopback(listenHost)) { return true }
        }
        return allowed.contains { $0.host == a.host && ($0.port == nil || $0.port == a.port) }
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; nil when it is none of these.
    static func address(_ text: String) -> Address? {
        let text = text.trimmingCharacters(in: .whitespaces)
        var host = Substring(text), portText: Substring? = nil
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.startIndex...close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { return nil }
                portText = rest.dropFirst()
            }
        } else if let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        let name = normalized(String(host))
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._:".contains($0)) }) else {
            return nil
        }
        guard let portText else { return Address(host: name, port: nil) }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        return Address(host: name, port: port)
    }

    static func normalized(_ host: String) -> String {
        var h = host.lowercased()
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h.hasSuffix(".") { h.removeLast() }
        return h
    }

    /// localhost, 127.0.0.0/8 or ::1 (as a normalized host, without brackets).
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { Array($0) } == [UInt8](repeating: 0, count: 15) + [1]
    }
}
