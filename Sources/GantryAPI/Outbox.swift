/// `GET /api/v1/outbox`: outgoing calls (notifications, commit statuses), newest first.
public struct OutboxList: Codable, Sendable, Equatable {
    public var messages: [OutboxMessageView]
    public init(messages: [OutboxMessageView]) { self.messages = messages }
}

/// One outbox row. `lastError` has every configured secret (tokens, signing secrets, hook URLs) masked as `***`.
public struct OutboxMessageView: Codable, Sendable, Equatable {
    public var id: Int64
    public var idempotencyKey: String
    public var target: String
    public var deploymentID: String
    public var seq: Int
    /// `pending`, `sent` or `failed` (dead-lettered).
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: String
    public var lastError: String?
    public var createdAt: String
    public var sentAt: String?
    /// The event this row carries (`DEPLOYMENT_SUCCEEDED`, …).
    public var event: String?

    public init(id: Int64, idempotencyKey: String, target: String, deploymentID: String, seq: Int, status: String,
                attempts: Int, nextAttemptAt: String, lastError: String?, createdAt: String, sentAt: String?, event: String?) {
        self.id = id; self.idempotencyKey = idempotencyKey; self.target = target; self.deploymentID = deploymentID
        self.seq = seq; self.status = status; self.attempts = attempts; self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError; self.createdAt = createdAt; self.sentAt = sentAt; self.event = event
    }
}
