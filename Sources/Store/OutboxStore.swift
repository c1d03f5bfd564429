import Foundation
import Synchronization

/// A deployment event as PipeCD names it: what notification routes filter on and what receivers are told.
public enum DeploymentEventType: String, Codable, Sendable, CaseIterable {
    case triggered = "DEPLOYMENT_TRIGGERED", planned = "DEPLOYMENT_PLANNED", started = "DEPLOYMENT_STARTED"
    case waitApproval = "DEPLOYMENT_WAIT_APPROVAL", approved = "DEPLOYMENT_APPROVED"
    case rollingBack = "DEPLOYMENT_ROLLING_BACK", succeeded = "DEPLOYMENT_SUCCEEDED", failed = "DEPLOYMENT_FAILED"
    case cancelled = "DEPLOYMENT_CANCELLED"
    /// A push touched an app that could not be planned (its config broke, no function runs one of its stages):
    /// no deployment was made. The event's `deployment.id` is empty and its `statusReason` says why.
    case triggerFailed = "DEPLOYMENT_TRIGGER_FAILED"

    /// The event a deployment's new status stands for (nil: a status no receiver hears of on its own).
    public init?(status: DeploymentStatus) {
        switch status {
        case .rollingBack: self = .rollingBack
        case .success: self = .succeeded
        case .failure: self = .failed
        case .cancelled: self = .cancelled
        case .running: self = .started
        case .pending, .planned: return nil
        }
    }
}

/// An app a trigger touched but could not plan: what `DEPLOYMENT_TRIGGER_FAILED` tells.
public struct TriggerFailure: Sendable, Equatable {
    public var application: String
    public var repository: String
    public var commit: String
    public var commitMessage: String
    public var author: String
    public var reason: String
    public var labels: [String: String]
    public init(application: String, repository: String, commit: String, commitMessage: String, author: String,
                reason: String, labels: [String: String]) {
        self.application = application; self.repository = repository; self.commit = commit
        self.commitMessage = commitMessage; self.author = author; self.reason = reason; self.labels = labels
    }
}

/// An outbox row's payload: the event and the deployment as it was in the transaction that caused it. Receivers
/// render their own request from it, so a retry sends the same bytes.
public struct DeploymentEvent: Codable, Sendable, Equatable {
    public var type: DeploymentEventType
    public var at: Date
    public var deployment: Subject

    public struct Subject: Codable, Sendable, Equatable {
        public var id: String
        public var application: String
        public var repository: String
        public var commit: String
        public var commitMessage: String
        public var author: String
        public var status: DeploymentStatus
        public var statusReason: String
        public var labels: [String: String]
        public init(id: String, application: String, repository: String, commit: String, commitMessage: String,
                    author: String, status: DeploymentStatus, statusReason: String, labels: [String: String]) {
            self.id = id; self.application = application; self.repository = repository; self.commit = commit
            self.commitMessage = commitMessage; self.author = author; self.status = status
            self.statusReason = statusReason; self.labels = labels
        }
    }

    public init(type: DeploymentEventType, at: Date, deployment: Subject) {
        self.type = type; self.at = at; self.deployment = deployment
    }
}

/// A plan preview to show on a pull request: one comment per repository and pull request, written once and
/// then edited in place. Rows of one pull request share a pair (`pairKey`), so their edits keep their order.
public struct PreviewComment: Codable, Sendable, Equatable {
    /// Always `PLAN_PREVIEW`: what the outbox API shows as the row's event.
    public var type = "PLAN_PREVIEW"
    public var at: Date
    public var repository: String
    public var pullRequest: Int
    public var head: String
    public var markdown: String

    public init(at: Date, repository: String, pullRequest: Int, head: String, markdown: String) {
        self.at = at; self.repository = repository; self.pullRequest = pullRequest; self.head = head; self.markdown = markdown
    }

    /// The outbox pair of every preview of one pull request.
    public var pairKey: String { "pr:\(repository)#\(pullRequest)" }
}

/// Decides, inside the store's transaction, which receivers an event goes to (notification routes, commit
/// statuses). It must be quick and pure: it runs while the engine's transaction is open.
public protocol OutboxRouter: Sendable {
    func targets(for event: DeploymentEvent) -> [String]
    /// Where a repository's plan-preview comments go; nil: the repository has no Git host API configured.
    func commentTarget(repository: String) -> String?
}

/// What the store tells the outbox: the router (set once the config is read) and who to wake after enqueueing.
public final class OutboxHook: Sendable {
    private struct State { var router: (any OutboxRouter)?; var onEnqueue: (@Sendable () -> Void)? }
    private let state = Mutex(State())
    public init() {}

    public func configure(router: any OutboxRouter, onEnqueue: @escaping @Sendable () -> Void) {
        state.withLock { $0 = State(router: router, onEnqueue: onEnqueue) }
    }
    public var router: (any OutboxRouter)? { state.withLock { $0.router } }
    public func enqueued() { state.withLock { $0.onEnqueue }?() }
}

public enum OutboxStatus: String, Codable, Sendable, CaseIterable {
    case pending, sent, failed
}

/// One outgoing call, durable from the transaction that caused it until it is sent or dead-lettered.
public struct OutboxMessage: Sendable, Equatable {
    public var id: Int64
    /// Stable across retries and restarts: receivers dedupe by it (`webhook-id`).
    public var idempotencyKey: String
    public var target: String
    public var deploymentID: String
    /// Order within (target, deployment): a row waits while an earlier one of its pair is pending.
    public var seq: Int
    public var payload: String
    public var status: OutboxStatus
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var createdAt: Date
    public var sentAt: Date?

    public init(id: Int64, idempotencyKey: String, target: String, deploymentID: String, seq: Int, payload: String,
                status: OutboxStatus, attempts: Int, nextAttemptAt: Date, lastError: String?, createdAt: Date, sentAt: Date?) {
        self.id = id; self.idempotencyKey = idempotencyKey; self.target = target; self.deploymentID = deploymentID
        self.seq = seq; self.payload = payload; self.status = status; self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt; self.lastError = lastError; self.createdAt = createdAt; self.sentAt = sentAt
    }
}

/// How one attempt ended, as the sender records it.
public enum OutboxAttempt: Sendable, Equatable {
    case sent
    /// Try again at `retryAt`, or dead-letter when `deadLetter`; `error` carries no secret.
    case failed(error: String, retryAt: Date, deadLetter: Bool)
}

/// The outbox as the sender and the API see it. Rows are written by the store's own transactions (see OutboxHook).
public protocol OutboxStore: Sendable {
    var outbox: OutboxHook { get }
    /// Due pending rows whose pair has no earlier pending row, at most `limit`; each is held for `lease` seconds
    /// (its next attempt moved), so a sender that dies mid-send leaves it due again after the lease.
    func claimOutbox(now: Date, limit: Int, lease: Double) async throws -> [OutboxMessage]
    /// The outcomes of one batch's attempts, in one transaction (one commit for the batch, not one per row).
    func recordOutboxAttempts(_ outcomes: [(id: Int64, outcome: OutboxAttempt)], now: Date) async throws
    /// The earliest next attempt of a pending row (nil: nothing pending).
    func nextOutboxAttempt() async throws -> Date?
    func outboxMessages(status: OutboxStatus?, limit: Int) async throws -> [OutboxMessage]
    /// A dead-lettered row pending again with fresh attempts; false when it is not dead-lettered.
    func retryOutboxMessage(id: Int64, now: Date) async throws -> Bool
    /// What a receiver remembered between rows (an id the Git host gave it), by target and key.
    func outboxMemo(target: String, key: String) async throws -> String?
    func setOutboxMemo(target: String, key: String, value: String, now: Date) async throws
}
