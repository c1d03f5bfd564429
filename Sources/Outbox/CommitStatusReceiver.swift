import Foundation
import Store

/// The Git hosts whose commit statuses Gantry sets, each with its API's default address.
enum CommitStatusProvider: String, CaseIterable {
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

/// A deployment's state as one commit status per application (context `gantry/<app>`), in each host's words:
/// GitHub `POST /repos/{o}/{r}/statuses/{sha}`, GitLab `POST /projects/{path}/statuses/{sha}`, Gitea the same path as
/// GitHub under `/api/v1`, Bitbucket Cloud `POST /repositories/{w}/{r}/commit/{sha}/statuses/build`.
struct CommitStatusReceiver: OutboxReceiver {
    let provider: CommitStatusProvider
    let apiURL: String
    /// `owner/name` (GitLab: the project's full path).
    let repository: String
    let token: String
    let link: DeploymentLink

    var secrets: [String] { [token] }

    func request(for message: OutboxMessage, event: DeploymentEvent, now: Date) throws -> OutboundRequest {
        let d = event.deployment
        let state = CommitState(event.type) ?? .pending
        let base = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        // GitHub refuses a description longer than 140 characters; the others take it as well.
        let description = String("\(d.status.rawValue)\(d.statusReason.isEmpty ? "" : ": " + d.statusReason)".prefix(140))
        let context = "gantry/\(d.application)", target = link.url(d.id)
        var headers = ["Content-Type": "application/json", "User-Agent": "gantry"]
        let path: String
        let body: [String: String]
        switch provider {
        case .github, .gitea:
            path = "/repos/\(repository)/statuses/\(d.commit)"
            body = ["state": state.rawValue, "target_url": target, "description": description, "context": context]
            if provider == .github {
                headers["Authorization"] = "Bearer \(token)"
                headers["Accept"] = "application/vnd.github+json"
                headers["X-GitHub-Api-Version"] = "2022-11-28"
            } else {
                headers["Authorization"] = "token \(token)"
            }
        case .gitlab:
            let project = repository.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? repository
            path = "/projects/\(project)/statuses/\(d.commit)"
            let states: [CommitState: String] = [.pending: "running", .success: "success", .failure: "failed", .error: "canceled"]
            body = ["state": states[state] ?? "running", "target_url": target, "description": description, "name": context]
            headers["PRIVATE-TOKEN"] = token
        case .bitbucket:
            path = "/repositories/\(repository)/commit/\(d.commit)/statuses/build"
            let states: [CommitState: String] = [.pending: "INPROGRESS", .success: "SUCCESSFUL", .failure: "FAILED", .error: "STOPPED"]
            body = ["key": context, "state": states[state] ?? "INPROGRESS", "url": target, "description": description,
                    "name": context]
            headers["Authorization"] = "Bearer \(token)"
        }
        let url = try httpURL(base + path, receiver: "status of \(repository)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return OutboundRequest(url: url, headers: headers, body: Array(try encoder.encode(body)))
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
