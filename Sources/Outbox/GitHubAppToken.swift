import Foundation
import SecretEncryption

/// A GitHub App's own credential: a JWT signed with the app's private key (RS256). GitHub takes it for at most ten
/// minutes and only to ask for an installation token.
struct GitHubAppJWT: Sendable {
    /// The app's ID or client ID.
    let issuer: String
    let key: SecretKey

    func token(now: Date) throws -> String {
        // Issued a minute back, as GitHub advises: its clock may run behind ours. Ten minutes is its longest life.
        let issued = Int(now.timeIntervalSince1970) - 60
        let issuer = Self.isNumeric(self.issuer) ? self.issuer : "\"\(self.issuer)\""
        let header = Self.base64URL(Array(#"{"alg":"RS256","typ":"JWT"}"#.utf8))
        let claims = Self.base64URL(Array(#"{"exp":\#(issued + 600),"iat":\#(issued),"iss":\#(issuer)}"#.utf8))
        let signed = header + "." + claims
        return signed + "." + Self.base64URL(try key.signSHA256(Array(signed.utf8)))
    }

    /// An app ID is a number; a client ID (`Iv1.…`) is letters, digits and dots: nothing that needs escaping.
    static func isValidIssuer(_ id: String) -> Bool {
        !id.isEmpty && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }

    static func isNumeric(_ id: String) -> Bool { !id.isEmpty && id.allSatisfy { $0.isASCII && $0.isNumber } }

    /// RFC 7515's base64url: no padding, `-` and `_` for `+` and `/`.
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The installation token a GitHub App's JWT buys (`POST /app/installations/{id}/access_tokens`), good for an
/// hour. It is kept until shortly before it expires, so a busy repository asks for one an hour, and callers that
/// find none share one request.
actor GitHubAppInstallationToken: HostToken {
    struct Issued: Sendable {
        let value: String
        let expires: Date
    }
    private struct Answer: Decodable {
        let token: String
        let expires_at: Date
    }

    let apiURL: String
    let installationID: String
    let jwt: GitHubAppJWT
    private let http: OutboundHTTP
    private var current: Issued?
    private var pending: Task<Issued, Error>?
    /// A token this close to its expiry is renewed: a delivery that starts with it must not outlive it.
    static let renewBefore: TimeInterval = 300
    /// The token request's own time limit; a delivery waits for it before its first call.
    static let timeout: Double = 10

    init(apiURL: String, installationID: String, jwt: GitHubAppJWT) {
        self.apiURL = apiURL; self.installationID = installationID; self.jwt = jwt
        http = OutboundHTTP(timeout: Self.timeout)
    }

    func token(now: Date) async throws -> String {
        if let current, current.expires.timeIntervalSince(now) > Self.renewBefore { return current.value }
        let task: Task<Issued, Error>
        if let pending { task = pending } else {
            task = Task { try await self.fetch(now: now) }
            pending = task
        }
        defer { if pending == task { pending = nil } }
        let fresh = try await task.value
        current = fresh
        return fresh.value
    }

    /// GitHub refused `value` before its expiry: it is dropped, and the next call asks for a new one.
    func refused(_ value: String) async -> Bool {
        if current?.value == value { current = nil }
        return true
    }

    /// Failures are the sender's kind: a refusal (a wrong key, app or installation: 401, 404) dead-letters the row
    /// at once with the call named; an unreachable GitHub is tried again.
    private nonisolated func fetch(now: Date) async throws -> Issued {
        let url = try GitHostAPI.endpoint(apiURL, "/app/installations/\(installationID)/access_tokens", receiver: "GitHub App")
        let what = "the GitHub App's installation token"
        let request = OutboundRequest(method: "POST", url: url, headers: GitHostProvider.github.headers(token: try jwt.token(now: now)),
                                      body: [])
        let body = try await http.call(request, what: what).body
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let answer = try? decoder.decode(Answer.self, from: Data(body)) else {
            throw DeliveryFailure.unexpectedAnswer("\(what): the answer is not the JSON expected")
        }
        return Issued(value: answer.token, expires: answer.expires_at)
    }
}
