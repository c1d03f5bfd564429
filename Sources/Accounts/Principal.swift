import Store

/// Who a request acts as, and how that was established; the role decides what it may do.
public struct Principal: Sendable, Equatable {
    public enum Via: Sendable, Equatable {
        /// A bearer token (from the config, or one created in the UI).
        case token
        /// A browser session: its cookie's digest (to end it) and the form token its pages carry.
        case session(hash: String, csrf: String)
        /// No tokens and no users are configured: the API is open as admin, on a loopback listener only.
        case openLoopback
    }

    public var name: String
    public var role: Role
    public var via: Via

    public init(name: String, role: Role, via: Via) { self.name = name; self.role = role; self.via = via }

    /// The session's form token; nil outside a browser session.
    public var csrf: String? { if case .session(_, let csrf) = via { return csrf }; return nil }
    /// The digest of the session cookie; nil outside a browser session.
    public var sessionHash: String? { if case .session(let hash, _) = via { return hash }; return nil }

    /// The refusal for a principal whose role falls short of `needed`; nil when it holds it.
    public func shortOf(_ needed: Role) -> AuthFailure? {
        role >= needed ? nil : AuthFailure(kind: .forbidden, reason: "\(name) is a \(role.rawValue); this needs \(needed.rawValue)")
    }
}

/// Why a request may not proceed: no valid credential, or a role that falls short.
public struct AuthFailure: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case unauthenticated, forbidden }
    public var kind: Kind
    public var reason: String
    public init(kind: Kind, reason: String) { self.kind = kind; self.reason = reason }

    public static let bearerRequired = "a valid bearer token is required (Authorization: Bearer <token>)"
}
