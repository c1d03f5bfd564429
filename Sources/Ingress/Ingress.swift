import Store

/// The webhook receiver: verifies a delivery, normalizes it, commits delivery and trigger in one store call,
/// and only then answers 202 and wakes the planner. It never plans or runs anything itself.
public final class Ingress: Sendable {
    public static let defaultBodyLimit = 25 * 1024 * 1024

    /// One receiver per host; other hosts join here as they are written.
    static let receivers: [WebhookProvider: any WebhookReceiver] = [.github: GitHubReceiver()]
    static var supportedProviders: [WebhookProvider] { Array(receivers.keys) }

    private let bindings: [String: WebhookBinding]
    private let store: any IngressStore
    private let onTrigger: @Sendable () -> Void

    /// Refuses to start a binding without a secret (throws), per SPEC "no secret means refusing to start".
    public init(bindings: [WebhookBinding], store: any IngressStore, onTrigger: @escaping @Sendable () -> Void) throws {
        var byID: [String: WebhookBinding] = [:]
        for binding in bindings {
            guard byID[binding.id] == nil else { throw IngressError.duplicateBinding(binding.id) }
            // An empty secret is a key anyone can sign with.
            guard !binding.secrets.isEmpty, !binding.secrets.contains(where: \.isEmpty) else {
                throw IngressError.bindingWithoutSecret(binding.id)
            }
            guard Self.receivers[binding.provider] != nil else { throw IngressError.unsupportedProvider(binding.id) }
            byID[binding.id] = binding
        }
        self.bindings = byID
        self.store = store
        self.onTrigger = onTrigger
    }

    /// headers: lower-cased names. body: the exact bytes received (the server enforces the body cap before reading).
    public func handle(binding id: String, headers: [String: String], body: [UInt8]) async -> IngressReply {
        guard let binding = bindings[id], let receiver = Self.receivers[binding.provider] else {
            return .notFound(binding: id)
        }
        let claimedID = receiver.deliveryID(headers: headers)
        if case .rejected(let reason) = receiver.authenticate(headers: headers, body: body, secrets: binding.secrets) {
            return .unauthorized(reason, deliveryID: claimedID)
        }
        // Without a host id, identical resends still get the same id and dedupe.
        let deliveryID = claimedID ?? "body-sha256:" + HMACSHA256.hex(sha256(body))
        let event = receiver.eventName(headers: headers)

        let decision: Decision
        switch receiver.interpret(event: event, headers: headers, body: body) {
        case .ignored(let reason): decision = .ignore(reason)
        case .push(let push): decision = PushRules.decide(push, for: binding)
        }

        let delivery: NewDelivery
        switch decision {
        case .accept(let trigger, let reason):
            delivery = NewDelivery(binding: id, deliveryID: deliveryID, event: event, verdict: "accepted",
                                   reason: reason, trigger: trigger)
        case .ignore(let reason):
            delivery = NewDelivery(binding: id, deliveryID: deliveryID, event: event, verdict: "ignored",
                                   reason: reason, trigger: nil)
        }

        let result: IngestResult
        do {
            result = try await store.ingest(delivery)
        } catch {
            // Nothing was committed: a 5xx makes the host retry; a 202 here would lose the push.
            return .storeUnavailable(deliveryID: deliveryID)
        }
        switch result {
        case .duplicate:
            return .duplicate(deliveryID: deliveryID)
        case .recorded(let triggerID):
            guard delivery.trigger != nil else { return .ignored(delivery.reason, deliveryID: deliveryID) }
            onTrigger()   // after the commit, so the planner always finds the trigger it is woken for
            return .accepted(delivery.reason, deliveryID: deliveryID, triggerID: triggerID)
        }
    }
}
