/// The Git host that sends a binding's webhooks; spelled as in the server config's `webhook.provider`.
public enum WebhookProvider: String, Sendable, Codable {
    case github, gitlab, gitea, bitbucket, bitbucketServer = "bitbucket-server", azureDevOps = "azure-devops", generic
}

/// One `POST /hooks/{id}` endpoint: which host signs it, and which repository and branch it triggers.
public struct WebhookBinding: Sendable {
    public var id: String
    public var provider: WebhookProvider
    /// Repository id from the server config (not a URL).
    public var repository: String
    /// The watched branch, `main` or `refs/heads/main`.
    public var branch: String
    /// Resolved secret bytes; several are active at once while a secret is rotated.
    public var secrets: [[UInt8]]
    /// The configured remote: a delivery whose payload names other repositories is ignored with that reason.
    /// Nil skips the check.
    public var remote: String?
    /// GitHub only: also accept the SHA-1 `X-Hub-Signature` (for senders that cannot do SHA-256).
    public var allowSHA1: Bool

    public init(id: String, provider: WebhookProvider, repository: String, branch: String, secrets: [[UInt8]],
                remote: String? = nil, allowSHA1: Bool = false) {
        self.id = id; self.provider = provider; self.repository = repository; self.branch = branch
        self.secrets = secrets; self.remote = remote; self.allowSHA1 = allowSHA1
    }
}

// Printing or dumping a binding (logs, test failures) must never show its secrets.
extension WebhookBinding: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "WebhookBinding(id: \(id), provider: \(provider.rawValue), repository: \(repository), branch: \(branch), "
            + "remote: \(remote.flatMap(RepositoryLocation.init)?.display ?? "-"), secrets: \(secrets.count) redacted)"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["id": id, "provider": provider, "repository": repository, "branch": branch,
                                "remote": remote.flatMap(RepositoryLocation.init)?.display ?? "-",
                                "allowSHA1": allowSHA1, "secrets": "\(secrets.count) redacted"])
    }
}

/// Why ingress refuses to start; each case carries the binding id.
public enum IngressError: Error, CustomStringConvertible {
    case bindingWithoutSecret(String)
    case unsupportedProvider(String)
    case duplicateBinding(String)
    case unusableSecret(String, why: String)

    public var description: String {
        switch self {
        case .bindingWithoutSecret(let id):
            return "webhook binding \"\(id)\" has no usable secret (none configured, or an empty one): refusing to "
                + "start, because anyone could trigger deployments; set webhook.secrets (env:NAME or file:PATH)"
        case .unsupportedProvider(let id):
            return "webhook binding \"\(id)\" names a provider this version cannot verify yet "
                + "(supported: \(Ingress.supportedProviders.map(\.rawValue).sorted().joined(separator: ", ")))"
        case .unusableSecret(let id, let why):
            return "webhook binding \"\(id)\" has an unusable secret: \(why)"
        case .duplicateBinding(let id):
            return "webhook binding \"\(id)\" is configured more than once; binding ids must be unique"
        }
    }
}
