import Foundation
import Store

/// GitHub's commit statuses: `POST {apiURL}/repos/{owner}/{repo}/statuses/{sha}` with context `gantry/<app>`.
struct GitHubStatusReceiver: OutboxReceiver {
    let apiURL: String
    /// `owner/name`.
    let repository: String
    let token: String
    let link: DeploymentLink

    var secrets: [String] { [token] }

    struct Status: Codable { var state: String; var target_url: String; var description: String; var context: String }

    func request(for message: OutboxMessage, event: DeploymentEvent, now: Date) throws -> OutboundRequest {
        let d = event.deployment
        let state = CommitState(event.type) ?? .pending
        let base = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        let url = try httpURL("\(base)/repos/\(repository)/statuses/\(d.commit)", receiver: "status of \(repository)")
        // GitHub refuses a description longer than 140 characters.
        let description = String("\(d.status.rawValue)\(d.statusReason.isEmpty ? "" : ": " + d.statusReason)".prefix(140))
        let status = Status(state: state.rawValue, target_url: link.url(d.id), description: description,
                            context: "gantry/\(d.application)")
        return OutboundRequest(url: url, headers: [
            "Content-Type": "application/json", "Accept": "application/vnd.github+json",
            "Authorization": "Bearer \(token)", "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "gantry",
        ], body: Array(try JSONEncoder().encode(status)))
    }

    /// `owner/name` from a remote URL (`https://host/owner/name.git`, `git@host:owner/name.git`).
    static func repository(fromRemote remote: String) -> String? {
        let path = remote.split(whereSeparator: { $0 == "/" || $0 == ":" }).suffix(2)
        guard path.count == 2 else { return nil }
        let name = path.last!.hasSuffix(".git") ? String(path.last!.dropLast(4)) : String(path.last!)
        return name.isEmpty ? nil : "\(path.first!)/\(name)"
    }
}
