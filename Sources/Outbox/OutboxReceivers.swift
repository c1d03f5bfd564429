import Foundation
import SecretEncryption
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
                                                    signatureSecret: try resolve(hook.secret))
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
        var deployments = Set<String>(), comments = Set<String>()
        for repo in statuses {
            let api = try Self.hostAPI(repo, resolve: resolve)
            let secrets = api.secrets
            receivers[OutboxTargets.statusTarget(repository: repo.id)] = CommitStatusReceiver(api: api.api, link: link, secrets: secrets)
            if api.api.provider != .bitbucket {
                receivers[OutboxTargets.pullRequestTarget(repository: repo.id)] = PullRequestCommentReceiver(api: api.api, secrets: secrets)
                comments.insert(repo.id)
            }
            if repo.status.deployments == true {
                guard api.api.provider == .github else {
                    throw Invalid(description: "repositories[\(repo.id)].status.deployments: GitHub Deployments need provider github")
                }
                receivers[OutboxTargets.deploymentTarget(repository: repo.id)] = GitHubDeploymentReceiver(api: api.api, link: link, secrets: secrets)
                deployments.insert(repo.id)
            }
        }
        byTarget = receivers
        redaction = SecretRedaction(secrets: receivers.values.flatMap(\.secrets))
        router = OutboxTargets(routes: routes, statusRepositories: Set(statuses.map(\.id)), deploymentRepositories: deployments,
                               commentRepositories: comments)
    }

    /// The repository's Git host API from its `status:` config and remote, and the secrets to mask.
    static func hostAPI(_ repo: StatusRepository, resolve: (String) throws -> String) throws -> (api: GitHostAPI, secrets: [String]) {
        let named = repo.status.provider ?? "github"
        guard let provider = GitHostProvider(rawValue: named) else {
            throw Invalid(description: "repositories[\(repo.id)].status.provider must be one of "
                          + GitHostProvider.allCases.map(\.rawValue).joined(separator: ", ") + ", not \(named)")
        }
        let fromRemote = provider == .gitlab ? GitHostAPI.fullPath(fromRemote: repo.remote)
            : GitHostAPI.repository(fromRemote: repo.remote)
        guard let name = repo.status.repository ?? fromRemote else {
            throw Invalid(description: "repositories[\(repo.id)].status.repository: cannot tell owner/name from the remote")
        }
        guard let url = repo.status.apiURL ?? provider.defaultAPIURL ?? GitHostAPI.giteaAPI(fromRemote: repo.remote) else {
            throw Invalid(description: "repositories[\(repo.id)].status.apiURL: cannot tell the Gitea server's API from the "
                          + "remote; set it (https://HOST/api/v1)")
        }
        let (token, secrets) = try credential(repo, provider: provider, apiURL: url, resolve: resolve)
        return (GitHostAPI(provider: provider, apiURL: url, repository: name, token: token), secrets)
    }

    /// A token from the config, or a GitHub App's installation token; with the secrets to mask.
    private static func credential(_ repo: StatusRepository, provider: GitHostProvider, apiURL: String,
                                   resolve: (String) throws -> String) throws -> (any HostToken, [String]) {
        let at = "repositories[\(repo.id)].status"
        switch (repo.status.token, repo.status.app) {
        case (let reference?, nil):
            let token = try resolve(reference)
            return (StaticToken(token), [token])
        case (nil, let app?):
            guard provider == .github else { throw Invalid(description: "\(at).app: GitHub Apps need provider github") }
            guard GitHubAppJWT.isValidIssuer(app.id) else {
                throw Invalid(description: "\(at).app.id must be the app's ID or client ID, not \(app.id)")
            }
            guard GitHubAppJWT.isNumeric(app.installationID) else {
                throw Invalid(description: "\(at).app.installationID must be a number, not \(app.installationID)")
            }
            let pem = try resolve(app.privateKey)
            let key: SecretKey
            do { key = try SecretKey.privateKey(pem: pem) } catch {
                throw Invalid(description: "\(at).app.privateKey: \(error)")
            }
            let token = GitHubAppInstallationToken(apiURL: apiURL, installationID: app.installationID,
                                                   jwt: GitHubAppJWT(issuer: app.id, key: key))
            return (token, [pem])
        default:
            throw Invalid(description: "\(at) needs exactly one of token and app")
        }
    }

    func receiver(_ target: String) -> (any OutboxReceiver)? { byTarget[target] }
}
