import Foundation
import Store

/// Every target the outbox can send to, built once from the config with secrets resolved.
public struct OutboxReceivers: Sendable {
    let byTarget: [String: any OutboxReceiver]
    public let redaction: SecretRedaction
    public let router: OutboxTargets

    /// A repository whose deployments post commit statuses.
    public struct StatusRepository: Sendable {
        public var id: String
        public var remote: String
        public var status: CommitStatusConfig
        public init(id: String, remote: String, status: CommitStatusConfig) {
            self.id = id; self.remote = remote; self.status = status
        }
    }

    public struct Invalid: Error, CustomStringConvertible { public let description: String }

    /// `resolve` turns a secret reference (`env:`, `file:`) into its value.
    public init(notifications: NotificationsConfig?, statuses: [StatusRepository], externalURL: String,
                resolve: (String) throws -> String) throws {
        let link = DeploymentLink(externalURL: externalURL)
        var receivers: [String: any OutboxReceiver] = [:]
        for r in notifications?.receivers ?? [] {
            guard receivers[r.name] == nil else { throw Invalid(description: "notifications: receiver \(r.name) appears twice") }
            switch (r.webhook, r.slack) {
            case (let hook?, nil):
                receivers[r.name] = WebhookReceiver(name: r.name, url: try httpURL(hook.url, receiver: r.name),
                                                    signatureSecret: try resolve(hook.signatureSecret))
            case (nil, let slack?):
                receivers[r.name] = SlackReceiver(hookURL: try httpURL(try resolve(slack.hookURL), receiver: r.name), link: link)
            default:
                throw Invalid(description: "notifications: receiver \(r.name) needs exactly one of webhook or slack")
            }
        }
        let routes = notifications?.routes ?? []
        for route in routes where receivers[route.receiver] == nil {
            throw Invalid(description: "notifications: route \(route.name) names unknown receiver \(route.receiver)")
        }
        for route in routes {
            for event in (route.events ?? []) + (route.ignoreEvents ?? []) where DeploymentEventType(rawValue: event) == nil {
                throw Invalid(description: "notifications: route \(route.name): unknown event \(event)")
            }
        }
        for repo in statuses {
            let named = repo.status.provider ?? "github"
            guard let provider = CommitStatusProvider(rawValue: named) else {
                throw Invalid(description: "repositories[\(repo.id)].status.provider must be one of "
                              + CommitStatusProvider.allCases.map(\.rawValue).joined(separator: ", ") + ", not \(named)")
            }
            let fromRemote = provider == .gitlab ? CommitStatusReceiver.fullPath(fromRemote: repo.remote)
                : CommitStatusReceiver.repository(fromRemote: repo.remote)
            guard let name = repo.status.repository ?? fromRemote else {
                throw Invalid(description: "repositories[\(repo.id)].status.repository: cannot tell owner/name from the remote")
            }
            guard let api = repo.status.apiURL ?? provider.defaultAPIURL ?? CommitStatusReceiver.giteaAPI(fromRemote: repo.remote) else {
                throw Invalid(description: "repositories[\(repo.id)].status.apiURL: cannot tell the Gitea server's API from the "
                              + "remote; set it (https://HOST/api/v1)")
            }
            receivers[OutboxTargets.statusTarget(repository: repo.id)] = CommitStatusReceiver(
                provider: provider, apiURL: api, repository: name, token: try resolve(repo.status.token), link: link)
        }
        byTarget = receivers
        redaction = SecretRedaction(secrets: receivers.values.flatMap(\.secrets))
        router = OutboxTargets(routes: routes, statusRepositories: Set(statuses.map(\.id)))
    }

    func receiver(_ target: String) -> (any OutboxReceiver)? { byTarget[target] }
}
