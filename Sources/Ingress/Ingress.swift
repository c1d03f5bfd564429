import Digest
import Foundation
import Metrics
import Store

/// The webhook receiver: verifies a delivery, normalizes it, commits delivery and triggers in one store call,
/// and only then answers 202 and wakes the planner. It never plans or runs anything itself.
public final class Ingress: Sendable {
    public static let defaultBodyLimit = 25 * 1024 * 1024
    /// Delivery ids longer than this are stored as their hash (they are the sender's text).
    static let maxDeliveryIDLength = 200

    /// One receiver per Git host.
    static let receivers: [WebhookProvider: any WebhookReceiver] = [
        .github: GitHubReceiver(), .gitlab: GitLabReceiver(), .gitea: GiteaReceiver(),
        .bitbucket: BitbucketCloudReceiver(), .bitbucketServer: BitbucketServerReceiver(),
        .azureDevOps: AzureDevOpsReceiver(), .generic: GenericReceiver(),
    ]
    static var supportedProviders: [WebhookProvider] { Array(receivers.keys) }

    private let bindings: [String: WebhookBinding]
    /// Each binding's remote, parsed once.
    private let remotes: [String: RepositoryLocation]
    private let store: any IngressStore
    private let onTrigger: @Sendable () -> Void
    private let metrics: IngressMetrics
    private let rejections: RecentRejections
    private let now: @Sendable () -> Date

    /// Refuses to start a binding without a usable secret (throws): without one anyone could trigger deployments
    /// (docs/security-model.md, "Webhooks").
    /// `metrics` receives the Prometheus series; `now` is the clock Standard Webhooks timestamps are checked against.
    public init(bindings: [WebhookBinding], store: any IngressStore,
                metrics: any MetricsFactory = NOOPMetricsHandler.instance,
                now: @escaping @Sendable () -> Date = { Date() },
                onTrigger: @escaping @Sendable () -> Void) throws {
        var byID: [String: WebhookBinding] = [:]
        for binding in bindings {
            guard byID[binding.id] == nil else { throw IngressError.duplicateBinding(binding.id) }
            // An empty secret is a key anyone can sign with.
            guard !binding.secrets.isEmpty, !binding.secrets.contains(where: \.isEmpty) else {
                throw IngressError.bindingWithoutSecret(binding.id)
            }
            guard Self.receivers[binding.provider] != nil else { throw IngressError.unsupportedProvider(binding.id) }
            try Self.checkSecrets(of: binding)
            byID[binding.id] = binding
        }
        self.bindings = byID
        self.remotes = byID.compactMapValues { $0.remote.flatMap(RepositoryLocation.init) }
        self.store = store
        self.onTrigger = onTrigger
        self.metrics = IngressMetrics(bindings: Array(byID.keys), factory: metrics)
        self.rejections = RecentRejections(bindings: Array(byID.keys))
        self.now = now
    }

    /// Secrets whose form the provider needs are checked at start, not at the first delivery.
    private static func checkSecrets(of binding: WebhookBinding) throws {
        for secret in binding.secrets {
            switch binding.provider {
            case .azureDevOps where !secret.contains(UInt8(ascii: ":")):
                throw IngressError.unusableSecret(binding.id, why: "azure-devops secrets are \"user:password\" "
                                                  + "(the basic authentication the service hook sends)")
            case .gitlab, .generic:
                if StandardWebhooks.key(forSecret: secret) == nil {
                    throw IngressError.unusableSecret(binding.id, why: "a whsec_ signing secret must be base64 after the prefix")
                }
            default: break
            }
        }
    }

    public var bindingIDs: [String] { bindings.keys.sorted() }

    /// headers: lower-cased names. body: the exact bytes received (the server enforces the body cap before reading).
    public func handle(binding id: String, headers: [String: String], body: [UInt8]) async -> IngressReply {
        let started = ContinuousClock.now
        guard let binding = bindings[id], let receiver = Self.receivers[binding.provider] else {
            metrics.count(binding: "", verdict: .notFound)
            return .notFound(binding: id)
        }
        let request = WebhookRequest(headers: headers, body: body, now: now())
        if case .rejected(let reason) = receiver.authenticate(request, binding: binding) {
            let claimed = receiver.claimedDeliveryID(request)
            remember(binding: id, deliveryID: claimed, headers: headers, verdict: .unauthorized, reason: reason)
            metrics.count(binding: id, verdict: .unauthorized)
            return .unauthorized(reason, deliveryID: claimed.map { String($0.prefix(Self.maxDeliveryIDLength)) })
        }
        let received = receiver.read(request)
        let deliveryID = Self.storedID(received.deliveryID, body: body, byBody: receiver.namesDeliveriesByBody)

        let delivery: NewDelivery
        switch PushRules.decide(received.interpretation, for: binding, remote: remotes[id]) {
        case .accept(let triggers, let reason):
            delivery = NewDelivery(binding: id, deliveryID: deliveryID, event: String(received.event.prefix(64)),
                                   verdict: .accepted, reason: reason, triggers: triggers)
        case .ignore(let reason):
            delivery = NewDelivery(binding: id, deliveryID: deliveryID, event: String(received.event.prefix(64)),
                                   verdict: .ignored, reason: reason, triggers: [])
        }

        let reply: IngressReply
        do {
            switch try await store.ingest(delivery) {
            case .duplicate:
                reply = .duplicate(deliveryID: deliveryID)
            case .recorded(let triggerID):
                if delivery.triggers.isEmpty {
                    reply = .ignored(delivery.reason, deliveryID: deliveryID)
                } else {
                    onTrigger()   // after the commit, so the planner always finds the trigger it is woken for
                    reply = .accepted(delivery.reason, deliveryID: deliveryID, triggerID: triggerID)
                }
            }
        } catch {
            // Nothing was committed: a 5xx makes the host retry; a 202 here would lose the push.
            reply = .storeUnavailable(deliveryID: deliveryID)
            remember(binding: id, deliveryID: deliveryID, headers: headers, verdict: reply.verdict,
                     reason: "store unavailable: \(error)")
        }
        metrics.count(binding: id, verdict: reply.verdict)
        metrics.observe(since: started)
        return reply
    }

    /// A request the server refused before ingress saw its body (too large, overloaded, malformed): counted,
    /// and remembered for the deliveries API when the binding exists.
    public func refused(binding id: String, headers: [String: String], verdict: Verdict, reason: String) {
        guard let binding = bindings[id], let receiver = Self.receivers[binding.provider] else {
            metrics.count(binding: "", verdict: verdict)
            return
        }
        let claimed = receiver.claimedDeliveryID(WebhookRequest(headers: headers, body: [], now: now()))
        metrics.count(binding: id, verdict: verdict)
        remember(binding: id, deliveryID: claimed, headers: headers, verdict: verdict, reason: reason)
    }

    /// Refused requests of a binding kept in memory (never stored), newest first; empty for unknown bindings.
    public func recentRefusals(binding: String) -> [DeliveryRecord] { rejections.recent(binding: binding) }

    private func remember(binding: String, deliveryID: String?, headers: [String: String], verdict: Verdict, reason: String) {
        let event = headers.header(anyOf: ["x-github-event", "x-gitlab-event", "x-gitea-event", "x-forgejo-event",
                                           "x-event-key"]) ?? ""
        rejections.add(binding: binding, deliveryID: deliveryID, event: event, verdict: verdict, reason: reason, at: now())
    }

    /// The id a delivery is deduplicated by. Without a host id, identical resends still get the same id
    /// (body hash), except for senders whose identical bodies mean new events.
    static func storedID(_ claimed: String?, body: [UInt8], byBody: Bool) -> String {
        if let claimed {
            if claimed.utf8.count <= maxDeliveryIDLength { return claimed }
            return "id-sha256:" + Digest.sha256Hex(claimed)
        }
        return byBody ? "body-sha256:" + Digest.sha256Hex(body) : "generated:" + UUID().uuidString.lowercased()
    }
}
