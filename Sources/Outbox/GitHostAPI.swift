import Foundation

/// The Git hosts whose APIs Gantry calls (commit statuses, pull request comments, GitHub Deployments), each with
/// its API's default address.
enum GitHostProvider: String, CaseIterable {
    case github, gitlab, gitea, bitbucket

    /// nil for Gitea: every server is self-hosted, so its address comes from the remote.
    var defaultAPIURL: String? {
        switch self {
        case .github: return "https://api.github.com"
        case .gitlab: return "https://gitlab.com/api/v4"
        case .bitbucket: return "https://api.bitbucket.org/2.0"
        case .gitea: return nil
        }
    }
}

extension GitHostProvider {
    /// What every call carries: the host's own way of sending a token, and GitHub's pinned API version.
    func headers(token: String) -> [String: String] {
        var headers = ["User-Agent": "gantry", "Accept": "application/json"]
        switch self {
        case .github:
            headers["Authorization"] = "Bearer \(token)"
            headers["Accept"] = "application/vnd.github+json"
            headers["X-GitHub-Api-Version"] = "2022-11-28"
        case .gitea: headers["Authorization"] = "token \(token)"
        case .gitlab: headers["PRIVATE-TOKEN"] = token
        case .bitbucket: headers["Authorization"] = "Bearer \(token)"
        }
        return headers
    }
}

/// One repository on a Git host's REST API: its address, its name there and the credential, written once for
/// every receiver that calls it.
struct GitHostAPI: Sendable {
    let provider: GitHostProvider
    let apiURL: String
    /// `owner/name` (GitLab: the project's full path).
    let repository: String
    let token: any HostToken

    /// GitLab names a project by its URL-encoded full path.
    var gitlabProject: String { repository.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? repository }

    /// `path` is below the API's root (`/repos/o/r/...`); `body` is sent as JSON with sorted keys.
    func request<Body: Encodable>(_ method: String, _ path: String, body: Body?, now: Date) async throws -> OutboundRequest {
        let url = try Self.endpoint(apiURL, path, receiver: "\(provider.rawValue) API of \(repository)")
        let credential = try await token.token(now: now)
        var headers = provider.headers(token: credential)
        var bytes: [UInt8] = []
        if let body {
            headers["Content-Type"] = "application/json"
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            bytes = Array(try encoder.encode(body))
        }
        var request = OutboundRequest(method: method, url: url, headers: headers, body: bytes)
        request.credential = (token, credential)
        return request
    }

    /// `path` below an API root given with or without its trailing slash.
    static func endpoint(_ apiURL: String, _ path: String, receiver: String) throws -> URL {
        try httpURL((apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL) + path, receiver: receiver)
    }

    func get(_ path: String, now: Date) async throws -> OutboundRequest {
        try await request("GET", path, body: Optional<[String: String]>.none, now: now)
    }

    /// `owner/name` from a remote URL (`https://host/owner/name.git`, `git@host:owner/name.git`).
    static func repository(fromRemote remote: String) -> String? {
        let path = remote.split(whereSeparator: { $0 == "/" || $0 == ":" }).suffix(2)
        guard path.count == 2 else { return nil }
        let name = path.last!.hasSuffix(".git") ? String(path.last!.dropLast(4)) : String(path.last!)
        return name.isEmpty ? nil : "\(path.first!)/\(name)"
    }

    /// The whole path of a remote (`group/sub/name`): GitLab names a project by it, nested groups included.
    static func fullPath(fromRemote remote: String) -> String? {
        var path: Substring
        if let url = URL(string: remote), url.scheme != nil {
            path = Substring(url.path)
        } else if let colon = remote.firstIndex(of: ":") {
            path = remote[remote.index(after: colon)...]
        } else {
            return nil
        }
        while path.hasPrefix("/") { path = path.dropFirst() }
        if path.hasSuffix(".git") { path = path.dropLast(4) }
        return path.contains("/") ? String(path) : nil
    }

    /// A Gitea server's API from its remote: `https://git.example/o/r.git` serves `https://git.example/api/v1`.
    static func giteaAPI(fromRemote remote: String) -> String? {
        guard let url = URL(string: remote), let scheme = url.scheme, ["http", "https"].contains(scheme),
              let host = url.host else { return nil }
        return "\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")/api/v1"
    }
}
