import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GantrySupport
import HTTPTypes
import Hummingbird
import Synchronization

/// A fake of the Git host REST endpoints Gantry calls, on loopback, with state: GitHub (at the root), Gitea (under
/// `/api/v1`) and GitLab (under `/api/v4`). Commit statuses, pull request comments (GitHub and Gitea issue
/// comments, GitLab merge request notes) and GitHub Deployments with their statuses. Each host's own auth header
/// is checked (`Bearer`, `token`, `PRIVATE-TOKEN`): a wrong one gets 401 as the real hosts answer. With an `App`,
/// GitHub's installation token endpoint checks the app's RS256 JWT (signature by openssl, issuer, lifetime) and hands
/// out tokens that GitHub's endpoints then accept until they expire. Every call is recorded.
final class FakeGitHost: Sendable {
    struct Call: Sendable {
        var method: String
        var path: String
        var body: [UInt8]
        var authorized: Bool
    }
    /// A GitHub App installed on the fake.
    struct App: Sendable {
        var id: String
        var installationID: String
        var publicPEM: String
        /// How long an installation token lives (GitHub: an hour).
        var lifetime: TimeInterval = 3600
    }
    struct Comment: Codable, Sendable { var id: Int64; var body: String }
    struct Deployment: Sendable {
        var id: Int64
        var sha: String
        var environment: String
        var gantryDeployment: String?
        var states: [String]
    }
    private struct State {
        var calls: [Call] = []
        /// By "<host>:<repository>#<number>".
        var comments: [String: [Comment]] = [:]
        var deployments: [Int64: Deployment] = [:]
        var nextID: Int64 = 1000
        /// Installation tokens handed out, with their expiry.
        var issued: [String: Date] = [:]
    }

    let port = freePort()
    var url: String { "http://127.0.0.1:\(port)" }
    let token: String
    let app: App?
    private let state = Mutex(State())
    private let runner = Mutex<Task<Void, Error>?>(nil)

    var calls: [Call] { state.withLock { $0.calls } }
    func comments(_ host: String, _ repository: String, _ number: Int) -> [Comment] {
        state.withLock { $0.comments["\(host):\(repository)#\(number)"] ?? [] }
    }
    var deployments: [Deployment] { state.withLock { $0.deployments.values.sorted { $0.id < $1.id } } }
    /// The states GitHub got for a commit's statuses, in order.
    func statuses(_ sha: String) -> [String] {
        calls.filter { $0.method == "POST" && $0.path.hasSuffix("/statuses/\(sha)") }.compactMap {
            (try? JSONDecoder().decode(StatusBody.self, from: Data($0.body)))?.state
        }
    }
    struct StatusBody: Decodable { var state: String }
    /// The app is reinstalled: every installation token handed out stops working before its expiry.
    func revokeInstallationTokens() { state.withLock { $0.issued = [:] } }
    /// Someone deletes a comment on the host.
    func deleteComments(_ host: String, _ repository: String, _ number: Int) {
        state.withLock { $0.comments["\(host):\(repository)#\(number)"] = [] }
    }

    init(token: String, app: App? = nil) async throws {
        self.token = token
        self.app = app
        let router = Router()
        router.post("/app/installations/:id/access_tokens") { r, c in try await self.issueInstallationToken(r, c) }
        for (host, prefix) in [("github", ""), ("gitea", "/api/v1")] {
            router.post("\(prefix)/repos/:owner/:name/statuses/:sha") { r, c in try await self.handle(r, c, host) { _ in (201, "{}") } }
            router.get("\(prefix)/repos/:owner/:name/issues/:number/comments") { r, c in
                try await self.handle(r, c, host) { _ in try self.list(host, r, c) }
            }
            router.post("\(prefix)/repos/:owner/:name/issues/:number/comments") { r, c in
                try await self.handle(r, c, host) { body in try self.create(host, r, c, body) }
            }
            router.patch("\(prefix)/repos/:owner/:name/issues/comments/:id") { r, c in
                try await self.handle(r, c, host) { body in try self.edit(c, body) }
            }
        }
        router.post("/api/v4/projects/:project/statuses/:sha") { r, c in try await self.handle(r, c, "gitlab") { _ in (201, "{}") } }
        router.get("/api/v4/projects/:project/merge_requests/:number/notes") { r, c in
            try await self.handle(r, c, "gitlab") { _ in try self.list("gitlab", r, c) }
        }
        router.post("/api/v4/projects/:project/merge_requests/:number/notes") { r, c in
            try await self.handle(r, c, "gitlab") { body in try self.create("gitlab", r, c, body) }
        }
        router.put("/api/v4/projects/:project/merge_requests/:number/notes/:id") { r, c in
            try await self.handle(r, c, "gitlab") { body in try self.edit(c, body) }
        }
        router.get("/repos/:owner/:name/deployments") { r, c in try await self.handle(r, c, "github") { _ in try self.listDeployments(r) } }
        router.post("/repos/:owner/:name/deployments") { r, c in
            try await self.handle(r, c, "github") { body in try self.createDeployment(body) }
        }
        router.post("/repos/:owner/:name/deployments/:id/statuses") { r, c in
            try await self.handle(r, c, "github") { body in try self.deploymentStatus(c, body) }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        runner.withLock { $0 = Task { try await app.runService() } }
        _ = try await eventually("the fake Git host to listen") {
            var r = URLRequest(url: URL(string: self.url + "/none")!)
            r.timeoutInterval = 1
            return (try? await URLSession.shared.data(for: r)) != nil ? true : nil
        }
    }

    func stop() { runner.withLock { $0?.cancel() } }

    private func handle(_ request: Request, _ context: BasicRequestContext, _ host: String,
                        _ answer: ([UInt8]) throws -> (Int, String)) async throws -> Response {
        let body = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView)
        let header = { (name: String) in HTTPField.Name(name).flatMap { request.headers[$0] } }
        let authorized: Bool
        switch host {
        case "github":
            let bearer = header("Authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            authorized = bearer == token || state.withLock { s in bearer.flatMap { s.issued[$0] }.map { $0 > Date() } ?? false }
        case "gitea": authorized = header("Authorization") == "token \(token)"
        default: authorized = header("PRIVATE-TOKEN") == token
        }
        state.withLock { $0.calls.append(Call(method: request.method.rawValue, path: request.uri.path, body: body,
                                               authorized: authorized)) }
        guard authorized else { return Self.json(401, #"{"message": "Bad credentials"}"#) }
        let (status, text) = try answer(body)
        return Self.json(status, text)
    }

    private static func json(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func key(_ host: String, _ request: Request, _ context: BasicRequestContext) -> String {
        let repository = context.parameters.get("project").map { $0.removingPercentEncoding ?? $0 }
            ?? "\(context.parameters.get("owner") ?? "")/\(context.parameters.get("name") ?? "")"
        return "\(host):\(repository)#\(context.parameters.get("number") ?? "")"
    }

    private func list(_ host: String, _ request: Request, _ context: BasicRequestContext) throws -> (Int, String) {
        let all = state.withLock { $0.comments[key(host, request, context)] ?? [] }
        // GitHub and GitLab page their lists; Gitea answers them whole.
        let page = Int(request.uri.queryParameters.get("page") ?? "1") ?? 1
        let perPage = Int(request.uri.queryParameters.get("per_page") ?? "30") ?? 30
        let shown = host == "gitea" ? all : Array(all.dropFirst((page - 1) * perPage).prefix(perPage))
        return (200, String(decoding: try JSONEncoder().encode(shown), as: UTF8.self))
    }

    private struct TextBody: Decodable { var body: String }

    private func create(_ host: String, _ request: Request, _ context: BasicRequestContext, _ body: [UInt8]) throws -> (Int, String) {
        let text = try JSONDecoder().decode(TextBody.self, from: Data(body)).body
        let comment = state.withLock { s -> Comment in
            s.nextID += 1
            let comment = Comment(id: s.nextID, body: text)
            s.comments[key(host, request, context), default: []].append(comment)
            return comment
        }
        return (201, String(decoding: try JSONEncoder().encode(comment), as: UTF8.self))
    }

    private func edit(_ context: BasicRequestContext, _ body: [UInt8]) throws -> (Int, String) {
        let text = try JSONDecoder().decode(TextBody.self, from: Data(body)).body
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else { return (404, "{}") }
        let edited = state.withLock { s -> Comment? in
            for (k, list) in s.comments {
                if let i = list.firstIndex(where: { $0.id == id }) {
                    s.comments[k]![i].body = text
                    return s.comments[k]![i]
                }
            }
            return nil
        }
        guard let edited else { return (404, #"{"message": "Not Found"}"#) }
        return (200, String(decoding: try JSONEncoder().encode(edited), as: UTF8.self))
    }

    private struct NewDeployment: Decodable {
        var ref: String
        var environment: String
        var payload: Payload?
        struct Payload: Codable { var gantryDeployment: String? }
    }
    private struct Listed: Encodable { var id: Int64; var sha: String; var environment: String; var payload: NewDeployment.Payload }

    private func listDeployments(_ request: Request) throws -> (Int, String) {
        let sha = request.uri.queryParameters.get("sha"), environment = request.uri.queryParameters.get("environment")
        let listed = deployments.reversed().filter { d in
            (sha == nil || d.sha == sha) && (environment == nil || d.environment == environment)
        }.map { Listed(id: $0.id, sha: $0.sha, environment: $0.environment, payload: .init(gantryDeployment: $0.gantryDeployment)) }
        return (200, String(decoding: try JSONEncoder().encode(listed), as: UTF8.self))
    }

    private func createDeployment(_ body: [UInt8]) throws -> (Int, String) {
        let new = try JSONDecoder().decode(NewDeployment.self, from: Data(body))
        let id = state.withLock { s -> Int64 in
            s.nextID += 1
            s.deployments[s.nextID] = Deployment(id: s.nextID, sha: new.ref, environment: new.environment,
                                                 gantryDeployment: new.payload?.gantryDeployment, states: [])
            return s.nextID
        }
        return (201, #"{"id": \#(id)}"#)
    }

    private func deploymentStatus(_ context: BasicRequestContext, _ body: [UInt8]) throws -> (Int, String) {
        let status = try JSONDecoder().decode(StatusBody.self, from: Data(body))
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else { return (404, "{}") }
        let found = state.withLock { s -> Bool in
            guard s.deployments[id] != nil else { return false }
            s.deployments[id]!.states.append(status.state)
            return true
        }
        return found ? (201, "{}") : (404, #"{"message": "Not Found"}"#)
    }

    private struct Claims: Decodable {
        var iss: String
        var iat: Int
        var exp: Int
        enum Key: CodingKey { case iss, iat, exp }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            iss = try (try? c.decode(String.self, forKey: .iss)) ?? String(c.decode(Int.self, forKey: .iss))
            iat = try c.decode(Int.self, forKey: .iat)
            exp = try c.decode(Int.self, forKey: .exp)
        }
    }

    /// GitHub's rules for an app's JWT: RS256 by the app's key, its ID as issuer, not expired, at most ten minutes.
    private func issueInstallationToken(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let jwt = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
        let claims = jwt.split(separator: ".").dropFirst().first.flatMap { OpenSSLTool.base64URLDecoded(String($0)) }
            .flatMap { try? JSONDecoder().decode(Claims.self, from: $0) }
        let now = Int(Date().timeIntervalSince1970)
        let authorized = app.map { app in
            OpenSSLTool.verifiesRS256(jwt, publicPEM: app.publicPEM) && claims.map {
                $0.iss == app.id && $0.iat <= now && $0.exp > now && $0.exp - $0.iat <= 600
            } == true
        } ?? false
        state.withLock { $0.calls.append(Call(method: "POST", path: request.uri.path, body: [], authorized: authorized)) }
        guard authorized, let app else {
            return Self.json(401, #"{"message": "A JSON web token could not be decoded"}"#)
        }
        guard context.parameters.get("id") == app.installationID else { return Self.json(404, #"{"message": "Not Found"}"#) }
        let token = "ghs_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let expires = Date().addingTimeInterval(app.lifetime)
        state.withLock { $0.issued[token] = expires }
        return Self.json(201, #"{"token": "\#(token)", "expires_at": "\#(ISO8601DateFormatter().string(from: expires))"}"#)
    }
}
