import Foundation
import Store

/// A Slack incoming webhook: one line of text with the app, the commit, the event and status, and a link.
struct SlackReceiver: EventReceiver {
    let hookURL: URL
    let link: DeploymentLink

    /// The path too: a refused call's error names it, and a Slack hook's path is its secret.
    var secrets: [String] { [hookURL.absoluteString, hookURL.path] }

    struct Message: Codable { var text: String }

    func request(for message: OutboxMessage, event: DeploymentEvent, now: Date) async throws -> OutboundRequest {
        let d = event.deployment
        let reason = d.statusReason.isEmpty ? "" : ": \(d.statusReason)"
        let text = "*\(d.application)* \(event.type.rawValue) (\(d.status.rawValue)\(reason)) at `\(d.commit.prefix(7))` "
            + "\(d.commitMessage.split(separator: "\n").first ?? "") <\(link.url(d))|\(d.id.isEmpty ? "application \(d.application)" : "deployment \(d.id)")>"
        return OutboundRequest(url: hookURL, headers: ["Content-Type": "application/json"],
                               body: Array(try JSONEncoder().encode(Message(text: text))))
    }
}
