import Foundation
import Store

/// A deployment's state as one commit status per application (context `gantry/<app>`), in each host's words:
/// GitHub `POST /repos/{o}/{r}/statuses/{sha}`, GitLab `POST /projects/{path}/statuses/{sha}`, Gitea the same path as
/// GitHub under `/api/v1`, Bitbucket Cloud `POST /repositories/{w}/{r}/commit/{sha}/statuses/build`.
struct CommitStatusReceiver: EventReceiver {
    let api: GitHostAPI
    let link: DeploymentLink
    let secrets: [String]

    func request(for message: OutboxMessage, event: DeploymentEvent, now: Date) async throws -> OutboundRequest {
        let d = event.deployment
        let state = CommitState(event.type) ?? .pending
        // GitHub refuses a description longer than 140 characters; the others take it as well.
        let description = String("\(d.status.rawValue)\(d.statusReason.isEmpty ? "" : ": " + d.statusReason)".prefix(140))
        let context = "gantry/\(d.application)", target = link.url(d)
        switch api.provider {
        case .github, .gitea:
            return try await api.request("POST", "/repos/\(api.repository)/statuses/\(d.commit)", body: [
                "state": state.rawValue, "target_url": target, "description": description, "context": context], now: now)
        case .gitlab:
            let states: [CommitState: String] = [.pending: "running", .success: "success", .failure: "failed", .error: "canceled"]
            return try await api.request("POST", "/projects/\(api.gitlabProject)/statuses/\(d.commit)", body: [
                "state": states[state] ?? "running", "target_url": target, "description": description, "name": context],
                now: now)
        case .bitbucket:
            let states: [CommitState: String] = [.pending: "INPROGRESS", .success: "SUCCESSFUL", .failure: "FAILED", .error: "STOPPED"]
            return try await api.request("POST", "/repositories/\(api.repository)/commit/\(d.commit)/statuses/build", body: [
                "key": context, "state": states[state] ?? "INPROGRESS", "url": target, "description": description,
                "name": context], now: now)
        }
    }
}
