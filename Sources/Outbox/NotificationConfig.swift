import Foundation

/// `notifications:` in gantry.yaml, in piped's shape: routes pick events, receivers say where they go.
public struct NotificationsConfig: Codable, Sendable {
    public var routes: [NotificationRoute]? = []
    public var receivers: [ReceiverConfig]? = []
    public init(routes: [NotificationRoute] = [], receivers: [ReceiverConfig] = []) {
        self.routes = routes; self.receivers = receivers
    }
}

/// One route: an event goes to `receiver` when the filters let it through (see `NotificationRoute.matches`).
public struct NotificationRoute: Codable, Sendable {
    public var name: String
    public var receiver: String
    public var events: [String]? = nil
    public var ignoreEvents: [String]? = nil
    public var apps: [String]? = nil
    public var ignoreApps: [String]? = nil
    public var labels: [String: String]? = nil
    public var ignoreLabels: [String: String]? = nil
    public init(name: String, receiver: String, events: [String]? = nil, ignoreEvents: [String]? = nil,
                apps: [String]? = nil, ignoreApps: [String]? = nil, labels: [String: String]? = nil,
                ignoreLabels: [String: String]? = nil) {
        self.name = name; self.receiver = receiver; self.events = events; self.ignoreEvents = ignoreEvents
        self.apps = apps; self.ignoreApps = ignoreApps; self.labels = labels; self.ignoreLabels = ignoreLabels
    }
}

/// A receiver: exactly one of `webhook` or `slack`. Secrets are references (`env:`, `file:`), resolved at start.
public struct ReceiverConfig: Codable, Sendable {
    public var name: String
    public var webhook: Webhook? = nil
    public var slack: Slack? = nil
    public struct Webhook: Codable, Sendable {
        public var url: String
        /// The Standard Webhooks signing secret, a reference (`env:`, `file:`); `whsec_` + base64 or raw bytes.
        public var secret: String
    }
    public struct Slack: Codable, Sendable {
        public var hookURL: String
    }
}

/// `outbox:` in gantry.yaml: how the sender retries. Durations as `10s`, `5m`.
public struct OutboxConfig: Codable, Sendable {
    /// Attempts before a row is dead-lettered (default 10).
    public var maxAttempts: Int? = nil
    /// Backoff before the second attempt (default 1s); doubled per attempt, with jitter.
    public var initialInterval: String? = nil
    /// Longest backoff (default 5m).
    public var maxInterval: String? = nil
    /// One request's time limit (default 10s); a claimed row is held twice as long.
    public var timeout: String? = nil
    /// Longest sleep without a wake-up (default 5s): other replicas' rows on a shared store.
    public var sweepInterval: String? = nil
    public init() {}
}

/// `repositories[].status:`: the repository's Git host API, for commit statuses, pull request comments and
/// GitHub Deployments.
public struct CommitStatusConfig: Codable, Sendable {
    public var provider: String? = "github"
    public var apiURL: String? = nil
    /// A personal or project access token, a reference (`env:`, `file:`). Exactly one of `token` and `app`.
    public var token: String? = nil
    /// GitHub only: act as a GitHub App installation instead of a person.
    public var app: GitHubAppConfig? = nil
    /// `owner/name`; default taken from the repository's remote URL.
    public var repository: String? = nil
    /// GitHub only: a GitHub Deployment per application and deployment, whose status follows it.
    public var deployments: Bool? = nil

    /// The secret references it holds, to resolve and to hide from functions.
    public var secretReferences: [String] { [token, app?.privateKey].compactMap { $0 } }
}

/// `status.app:`: a GitHub App installed on the repository's organisation. Gantry signs a JWT with the app's key
/// and trades it for an installation token, kept until shortly before it expires.
public struct GitHubAppConfig: Codable, Sendable {
    /// The app's ID (a number) or its client ID (`Iv1.…`): the JWT's issuer.
    public var id: String
    /// The installation's ID on the organisation or account (a number, in the installation's settings URL).
    public var installationID: String
    /// The app's RSA private key as PEM, a reference (`file:`, `env:`).
    public var privateKey: String
    public init(id: String, installationID: String, privateKey: String) {
        self.id = id; self.installationID = installationID; self.privateKey = privateKey
    }
}
