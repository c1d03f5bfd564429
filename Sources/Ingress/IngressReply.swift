import Store

/// What the server answers the Git host. `verdict` is one of accepted, duplicate, ignored, unauthorized,
/// not-found, bad-request (and unavailable when the store failed, with status 503 so the host retries).
public struct IngressReply: Sendable, Equatable {
    public var status: Int
    public var verdict: Verdict
    public var reason: String
    public var deliveryID: String?
    public var triggerID: Int64?

    public init(status: Int, verdict: Verdict, reason: String, deliveryID: String? = nil, triggerID: Int64? = nil) {
        self.status = status; self.verdict = verdict; self.reason = reason
        self.deliveryID = deliveryID; self.triggerID = triggerID
    }
}

extension IngressReply {
    static func notFound(binding: String) -> IngressReply {
        IngressReply(status: 404, verdict: .notFound, reason: "no webhook binding \"\(binding)\"")
    }

    static func unauthorized(_ reason: String, deliveryID: String?) -> IngressReply {
        IngressReply(status: 401, verdict: .unauthorized, reason: reason, deliveryID: deliveryID)
    }

    static func storeUnavailable(deliveryID: String) -> IngressReply {
        IngressReply(status: 503, verdict: .unavailable, reason: "store unavailable", deliveryID: deliveryID)
    }

    static func duplicate(deliveryID: String) -> IngressReply {
        IngressReply(status: 200, verdict: .duplicate, reason: "delivery already received", deliveryID: deliveryID)
    }

    /// 2xx even for ignored events: GitLab disables a hook after repeated 4xx answers.
    static func ignored(_ reason: String, deliveryID: String) -> IngressReply {
        IngressReply(status: 200, verdict: .ignored, reason: reason, deliveryID: deliveryID)
    }

    static func accepted(_ reason: String, deliveryID: String, triggerID: Int64?) -> IngressReply {
        IngressReply(status: 202, verdict: .accepted, reason: reason, deliveryID: deliveryID, triggerID: triggerID)
    }
}
