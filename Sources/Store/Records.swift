import Foundation

/// Status of a whole deployment (docs/rest-api.md, "Status values": an outside contract, spelled exactly like
/// this).
public enum DeploymentStatus: String, Codable, Sendable, CaseIterable {
    case pending = "PENDING", planned = "PLANNED", running = "RUNNING", rollingBack = "ROLLING_BACK"
    case success = "SUCCESS", failure = "FAILURE", cancelled = "CANCELLED"

    public var isFinal: Bool { self == .success || self == .failure || self == .cancelled }
    public var isActive: Bool { self == .running || self == .rollingBack }
}

/// Status of one stage (docs/rest-api.md, "Status values": an outside contract).
public enum StageStatus: String, Codable, Sendable, CaseIterable {
    case notStarted = "NOT_STARTED", running = "RUNNING", suspended = "SUSPENDED", success = "SUCCESS"
    case failure = "FAILURE", cancelled = "CANCELLED", skipped = "SKIPPED", exited = "EXITED"

    public var isFinal: Bool { !(self == .notStarted || self == .running || self == .suspended) }
}

public enum TriggerKind: String, Codable, Sendable { case webhook, manual, reconcile, pullRequest = "pull-request" }

/// The pull request a `pullRequest` trigger previews.
public struct PullRequestRef: Codable, Sendable, Equatable {
    public var number: Int
    /// The branch it would merge into (`refs/heads/main`).
    public var baseRef: String
    /// Where its head can be fetched from the base repository (`refs/pull/N/head`, `refs/merge-requests/N/head`).
    public var headRef: String
    public var title: String
    /// The pull request's web page.
    public var url: String
    public init(number: Int, baseRef: String, headRef: String, title: String, url: String) {
        self.number = number; self.baseRef = baseRef; self.headRef = headRef; self.title = title; self.url = url
    }
}

/// How a deployment is carried out; `auto` lets the planner decide in PipeCD's order.
public enum SyncStrategy: String, Codable, Sendable { case auto, quickSync = "quick-sync", pipeline }

/// One push, normalized from whatever Git host sent it. Only a hint: the planner resolves the ref with git.
public struct PushEvent: Codable, Sendable, Equatable {
    public var provider: String
    public var repositoryURLs: [String]
    public var ref: String
    public var before: String
    public var after: String
    public var commitMessage: String
    public var author: String

    public init(provider: String, repositoryURLs: [String], ref: String, before: String, after: String,
                commitMessage: String, author: String) {
        self.provider = provider; self.repositoryURLs = repositoryURLs; self.ref = ref
        self.before = before; self.after = after; self.commitMessage = commitMessage; self.author = author
    }
}

/// Work for the planner: "look at this repository at this commit (or its branch head)".
public struct NewTrigger: Codable, Sendable, Equatable {
    public var repository: String          // repository id from the server config
    public var ref: String                 // refs/heads/<branch>
    public var commit: String?             // the pushed `after`; nil means "resolve the branch head"
    public var kind: TriggerKind
    public var application: String?        // manual sync of one application
    public var strategy: SyncStrategy
    public var commitMessage: String
    public var author: String
    /// Set for a `pullRequest` trigger: what it previews.
    public var pullRequest: PullRequestRef?

    public init(repository: String, ref: String, commit: String?, kind: TriggerKind, application: String? = nil,
                strategy: SyncStrategy = .auto, commitMessage: String = "", author: String = "",
                pullRequest: PullRequestRef? = nil) {
        self.repository = repository; self.ref = ref; self.commit = commit; self.kind = kind
        self.application = application; self.strategy = strategy
        self.commitMessage = commitMessage; self.author = author; self.pullRequest = pullRequest
    }
}

public struct Trigger: Codable, Sendable, Equatable {
    public var id: Int64
    public var trigger: NewTrigger
    public var createdAt: Date
    public init(id: Int64, trigger: NewTrigger, createdAt: Date) { self.id = id; self.trigger = trigger; self.createdAt = createdAt }
}

/// What ingress hands the store for one delivery: verdict and reason are kept for "why did my push do nothing".
public struct NewDelivery: Sendable {
    public var binding: String
    public var deliveryID: String
    public var event: String               // e.g. "push", "ping"
    public var verdict: Verdict            // accepted | ignored
    public var reason: String
    /// Every trigger the delivery carries (one per accepted ref update; Bitbucket and Azure DevOps send
    /// several in one delivery), committed in the delivery's transaction. Empty for ignored deliveries.
    public var triggers: [NewTrigger]
    /// The first trigger; nil for ignored deliveries.
    public var trigger: NewTrigger? {
        get { triggers.first }
        set { triggers = newValue.map { [$0] } ?? [] }
    }
    public init(binding: String, deliveryID: String, event: String, verdict: Verdict, reason: String, trigger: NewTrigger?) {
        self.init(binding: binding, deliveryID: deliveryID, event: event, verdict: verdict, reason: reason,
                  triggers: trigger.map { [$0] } ?? [])
    }
    public init(binding: String, deliveryID: String, event: String, verdict: Verdict, reason: String, triggers: [NewTrigger]) {
        self.binding = binding; self.deliveryID = deliveryID; self.event = event
        self.verdict = verdict; self.reason = reason; self.triggers = triggers
    }
}

public enum IngestResult: Sendable, Equatable {
    /// triggerID: the id of the delivery's first trigger, nil when it carries none.
    case recorded(triggerID: Int64?)
    case duplicate
}

/// An application as the planner last saw it in its repository.
public struct Application: Codable, Sendable, Equatable {
    public var name: String
    public var repository: String
    public var path: String                // directory of the config file, relative to the repository root ("" = root)
    public var configFile: String          // path of the config file, relative to the repository root
    public var kind: String                // KubernetesApp, LambdaApp, ... or App (no platform)
    public var platform: String?           // platform entry name from the server config, if any
    public var lastTriggeredCommit: String?
    public var runningCommit: String?      // commit of the last successful deployment
    public var configError: String?        // set when the config file cannot be used (with its line)
    public var updatedAt: Date
    /// `spec.labels` of the app's config: insights group by them.
    public var labels: [String: String] = [:]
    /// Keys of the app's config nothing reads ("app.pipecd.yaml line 9: spec.notification is not implemented ...").
    public var configWarnings: [String] = []

    public init(name: String, repository: String, path: String, configFile: String, kind: String,
                platform: String? = nil, lastTriggeredCommit: String? = nil, runningCommit: String? = nil,
                configError: String? = nil, updatedAt: Date = Date()) {
        self.name = name; self.repository = repository; self.path = path; self.configFile = configFile
        self.kind = kind; self.platform = platform; self.lastTriggeredCommit = lastTriggeredCommit
        self.runningCommit = runningCommit; self.configError = configError; self.updatedAt = updatedAt
    }
}

public struct Deployment: Codable, Sendable, Equatable {
    public var id: String
    public var application: String
    public var repository: String
    public var appPath: String
    public var platform: String?
    public var commit: String
    public var runningCommit: String?
    public var triggerKind: TriggerKind
    public var commitMessage: String
    public var author: String
    public var strategy: SyncStrategy      // quick-sync or pipeline once planned
    public var summary: String
    public var status: DeploymentStatus
    public var statusReason: String
    public var autoRollback: Bool
    public var createdAt: Date
    public var startedAt: Date?
    public var completedAt: Date?
    public var deadline: Date?             // absolute; set when the deployment starts running
    public var timeoutSeconds: Double
    public var cancelRequested: Bool
    public var cancelRollback: Bool
    /// The commit's committer time, recorded at planning: the start of "lead time for changes".
    public var commitTime: Date?
    /// `spec.rollbackTimeout`: how long the rollback stages may take together, from the moment the deployment
    /// starts rolling back. `deadline` bounds the forward stages only, so a rollback after a timeout still runs.
    public var rollbackTimeoutSeconds: Double
    /// Absolute; fixed once when the deployment becomes ROLLING_BACK, so a restart never moves it.
    public var rollbackDeadline: Date?

    /// PipeCD bounds a deployment by `spec.timeout` (default 6h) and its rollback by nothing; the same 6h here keeps
    /// a hung rollback from holding the application's one active deployment forever.
    public static let defaultRollbackTimeoutSeconds: Double = 6 * 3600

    public init(id: String, application: String, repository: String, appPath: String, platform: String?,
                commit: String, runningCommit: String?, triggerKind: TriggerKind, commitMessage: String,
                author: String, strategy: SyncStrategy, summary: String, status: DeploymentStatus = .planned,
                statusReason: String = "", autoRollback: Bool = true, createdAt: Date = Date(),
                startedAt: Date? = nil, completedAt: Date? = nil, deadline: Date? = nil,
                timeoutSeconds: Double = 6 * 3600, cancelRequested: Bool = false, cancelRollback: Bool = true,
                commitTime: Date? = nil, rollbackTimeoutSeconds: Double = Deployment.defaultRollbackTimeoutSeconds,
                rollbackDeadline: Date? = nil) {
        self.id = id; self.application = application; self.repository = repository; self.appPath = appPath
        self.platform = platform; self.commit = commit; self.runningCommit = runningCommit
        self.triggerKind = triggerKind; self.commitMessage = commitMessage; self.author = author
        self.strategy = strategy; self.summary = summary; self.status = status; self.statusReason = statusReason
        self.autoRollback = autoRollback; self.createdAt = createdAt; self.startedAt = startedAt
        self.completedAt = completedAt; self.deadline = deadline; self.timeoutSeconds = timeoutSeconds
        self.cancelRequested = cancelRequested; self.cancelRollback = cancelRollback; self.commitTime = commitTime
        self.rollbackTimeoutSeconds = rollbackTimeoutSeconds; self.rollbackDeadline = rollbackDeadline
    }

    /// The deadline of the phase the deployment is in: the forward stages' or the rollback's.
    public var phaseDeadline: Date? { status == .rollingBack ? rollbackDeadline : deadline }
}

/// A stage's `retry:` (docs/function-protocol.md, "Retries"): a failed result that says `retryable: true` is
/// re-invoked as a new attempt after a backoff, until `maxAttempts` attempts were made. None by default.
public struct RetryPolicy: Codable, Sendable, Equatable {
    public var maxAttempts: Int
    public var initialInterval: Double
    public var maxInterval: Double
    public var backoffCoefficient: Double
    /// Error types never retried, whatever the function says (e.g. InvalidManifest).
    public var nonRetryable: [String]
    public init(maxAttempts: Int, initialInterval: Double = 1, maxInterval: Double = 60, backoffCoefficient: Double = 2,
                nonRetryable: [String] = []) {
        self.maxAttempts = maxAttempts; self.initialInterval = initialInterval; self.maxInterval = maxInterval
        self.backoffCoefficient = backoffCoefficient; self.nonRetryable = nonRetryable
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxAttempts = try c.decode(Int.self, forKey: .maxAttempts)
        initialInterval = try c.decode(Double.self, forKey: .initialInterval)
        maxInterval = try c.decode(Double.self, forKey: .maxInterval)
        backoffCoefficient = try c.decode(Double.self, forKey: .backoffCoefficient)
        nonRetryable = try c.decodeIfPresent([String].self, forKey: .nonRetryable) ?? []
    }

    /// The wait before attempt `attempt + 1`, after `attempt` attempts failed.
    public func backoff(afterAttempt attempt: Int) -> Double {
        min(maxInterval, initialInterval * pow(backoffCoefficient, Double(max(0, attempt - 1))))
    }
}

public struct Stage: Codable, Sendable, Equatable {
    public var deploymentID: String
    public var index: Int
    public var name: String
    public var withJSON: String            // the stage's `with:` as a JSON object
    public var rollback: Bool              // a hidden stage that runs only when the deployment rolls back
    public var rollbackOf: Int?            // for SCRIPT_RUN_ROLLBACK: the forward stage it undoes
    public var status: StageStatus
    public var attempt: Int                // 0 until first invoked; +1 per invocation
    public var leaseOwner: String?
    public var leaseExpiry: Date?
    public var resumeAt: Date?
    public var waitingFor: String?
    public var timeoutSeconds: Double?     // stage `timeout`
    public var retry: RetryPolicy?         // stage `retry`
    public var deadline: Date?             // absolute, from the first start; never moves on restart
    public var startedAt: Date?
    public var completedAt: Date?
    public var checkpoint: String?         // latest checkpoint JSON of the current attempt chain
    public var outputs: String             // JSON object
    public var message: String
    public var processGroup: Int32?        // of the running attempt, to kill after a crash
    public var processStart: UInt64?      // start time (clock ticks) of that group's leader
    public var recoveries: Int = 0         // re-invocations caused by the server dying mid-attempt
    public var errorType: String?          // typed failure of the last attempt (DeadlineExceeded, ...)
    public var checkpointSchema: Int?      // `schema` of the stored checkpoint (nil = 1)
    public var resumeJSON: String?         // why the next invocation resumes (callback payload, approval ...)
    public var stopReason: String?         // "shutdown" when a graceful stop interrupted the attempt
    public var functionName: String?
    public var functionVersion: String?

    public init(deploymentID: String, index: Int, name: String, withJSON: String = "{}", rollback: Bool = false,
                rollbackOf: Int? = nil, status: StageStatus = .notStarted, attempt: Int = 0,
                timeoutSeconds: Double? = nil, retry: RetryPolicy? = nil) {
        self.deploymentID = deploymentID; self.index = index; self.name = name; self.withJSON = withJSON
        self.rollback = rollback; self.rollbackOf = rollbackOf; self.status = status; self.attempt = attempt
        self.timeoutSeconds = timeoutSeconds; self.retry = retry; self.outputs = "{}"; self.message = ""
    }
}

public struct StageLogLine: Codable, Sendable, Equatable {
    public var deploymentID: String
    public var stageIndex: Int
    public var attempt: Int
    public var at: Date
    public var line: String
    public init(deploymentID: String, stageIndex: Int, attempt: Int, at: Date = Date(), line: String) {
        self.deploymentID = deploymentID; self.stageIndex = stageIndex; self.attempt = attempt; self.at = at; self.line = line
    }
}

public struct Approval: Codable, Sendable, Equatable {
    public var deploymentID: String
    public var stageIndex: Int
    public var approver: String
    public var at: Date
    public init(deploymentID: String, stageIndex: Int, approver: String, at: Date = Date()) {
        self.deploymentID = deploymentID; self.stageIndex = stageIndex; self.approver = approver; self.at = at
    }
}

/// A deployment with its stages, in index order.
public struct DeploymentDetail: Codable, Sendable, Equatable {
    public var deployment: Deployment
    public var stages: [Stage]
    public init(deployment: Deployment, stages: [Stage]) { self.deployment = deployment; self.stages = stages }
}

/// One invocation of a stage's function (a resumed stage is invoked again within the same attempt).
public struct InvocationRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var deploymentID: String
    public var stageIndex: Int
    public var attempt: Int
    public var recovery: Int
    public var functionName: String
    public var functionVersion: String
    public var startedAt: Date
    public var endedAt: Date?
    public var status: String?
    public var errorType: String?
    public var message: String?
    /// The host's attempt report (wallMs, cpuMs, maxRssKiB, exitCode, signal, limitHit) as JSON.
    public var reportJSON: String?
    public init(id: Int64, deploymentID: String, stageIndex: Int, attempt: Int, recovery: Int, functionName: String,
                functionVersion: String, startedAt: Date, endedAt: Date? = nil, status: String? = nil,
                errorType: String? = nil, message: String? = nil, reportJSON: String? = nil) {
        self.id = id; self.deploymentID = deploymentID; self.stageIndex = stageIndex; self.attempt = attempt
        self.recovery = recovery; self.functionName = functionName; self.functionVersion = functionVersion
        self.startedAt = startedAt; self.endedAt = endedAt; self.status = status; self.errorType = errorType
        self.message = message; self.reportJSON = reportJSON
    }
}

/// Taking a stage to run one invocation of it (committed before the process starts).
public struct LeaseRequest: Sendable {
    public var deploymentID: String
    public var index: Int
    public var expectedAttempt: Int
    /// The status the caller saw: together with the attempt it fences off a decision taken on stale data.
    public var expectedStatus: StageStatus
    /// First run, retry or crash recovery: attempt + 1. Waking a suspended stage continues its attempt.
    public var newAttempt: Bool
    public var owner: String
    public var leaseExpiry: Date
    /// The stage's deadline when it has no `timeout` of its own: 6 h (docs/app-config.md, "Timeouts").
    public var defaultStageTimeout: Double
    public var functionName: String
    public var functionVersion: String
    /// SHA-256 of this invocation's callback token; only the hash is stored.
    public var callbackHash: String?
    /// The function's concurrency slot: the lease is refused (nil) while the slot is full on any replica.
    public var concurrency: ConcurrencySlot?
    public var now: Date
    public init(deploymentID: String, index: Int, expectedAttempt: Int, expectedStatus: StageStatus, newAttempt: Bool,
                owner: String, leaseExpiry: Date,
                defaultStageTimeout: Double = 6 * 3600, functionName: String, functionVersion: String,
                callbackHash: String?, concurrency: ConcurrencySlot? = nil, now: Date) {
        self.deploymentID = deploymentID; self.index = index; self.expectedAttempt = expectedAttempt
        self.expectedStatus = expectedStatus; self.newAttempt = newAttempt; self.owner = owner; self.leaseExpiry = leaseExpiry
        self.defaultStageTimeout = defaultStageTimeout; self.functionName = functionName
        self.functionVersion = functionVersion; self.callbackHash = callbackHash; self.concurrency = concurrency
        self.now = now
    }
}

/// A function's `concurrency` as the store counts it: at most `limit` stages RUNNING under a live lease in `slot`
/// (e.g. "deploy/application=web"), whichever replica runs them.
public struct ConcurrencySlot: Sendable, Equatable {
    public var slot: String
    public var limit: Int
    public init(slot: String, limit: Int) { self.slot = slot; self.limit = limit }
}

/// An invocation's outcome, applied only if its attempt is still the stage's current one (fencing).
public struct AttemptFinish: Sendable {
    public var deploymentID: String
    public var index: Int
    public var attempt: Int
    public var invocationID: Int64
    public var status: StageStatus
    public var errorType: String?
    public var message: String
    public var resumeAt: Date?
    public var waitingFor: String?
    public var reportJSON: String?
    /// A stage log line committed with the outcome (one fsync instead of two per invocation).
    public var logLine: String?
    /// The deployment's next stage, leased in the same transaction when the outcome is applied and the deployment
    /// is still RUNNING, not cancelled and within its deadline: one commit per stage transition, not two.
    public var next: LeaseRequest?
    public var now: Date
    public init(deploymentID: String, index: Int, attempt: Int, invocationID: Int64, status: StageStatus,
                errorType: String?, message: String, resumeAt: Date?, waitingFor: String?, reportJSON: String?,
                logLine: String? = nil, next: LeaseRequest? = nil, now: Date) {
        self.deploymentID = deploymentID; self.index = index; self.attempt = attempt; self.invocationID = invocationID
        self.status = status; self.errorType = errorType; self.message = message; self.resumeAt = resumeAt
        self.waitingFor = waitingFor; self.reportJSON = reportJSON; self.logLine = logLine; self.next = next
        self.now = now
    }
}

/// What `finishAttempt` did.
public struct AttemptFinished: Sendable {
    /// False: the attempt was not the stage's current running one, and nothing was written (fencing).
    public var applied: Bool
    /// The finished stage's outputs as stored (a JSON object), for the stages after it.
    public var outputs: String
    /// The next stage, when `AttemptFinish.next` was given and the lease was taken.
    public var next: (stage: Stage, invocationID: Int64)?
    public init(applied: Bool, outputs: String = "{}", next: (stage: Stage, invocationID: Int64)? = nil) {
        self.applied = applied; self.outputs = outputs; self.next = next
    }
}

public enum CallbackOutcome: Sendable, Equatable {
    case unknown                       // no stage holds this token (never issued, used, or expired)
    case heartbeat(deploymentID: String)
    case resolved(deploymentID: String)
}

/// What the planner decided for one trigger, committed in one transaction.
public struct PlanOutcome: Sendable {
    public var triggerID: Int64
    public var applications: [Application]          // upserted (discovered, errors, lastTriggeredCommit)
    public var deployments: [DeploymentDetail]      // new, status PLANNED
    public var note: String                         // why nothing was deployed, if so
    /// Other pending triggers of the same repository this plan answers as well (they would plan the same branch
    /// head): finished in the same transaction, each with a note naming `triggerID`.
    public var coalesced: [Int64] = []
    public var coalescedNote: String { "coalesced into trigger \(triggerID), which planned the branch head" }
    /// A pull request's plan preview, posted to it through the outbox in the same transaction.
    public var previewComment: PreviewComment?
    /// Apps the trigger touched and could not plan (`DEPLOYMENT_TRIGGER_FAILED`).
    public var failures: [TriggerFailure] = []
    public init(triggerID: Int64, applications: [Application], deployments: [DeploymentDetail], note: String = "",
                previewComment: PreviewComment? = nil) {
        self.triggerID = triggerID; self.applications = applications; self.deployments = deployments; self.note = note
        self.previewComment = previewComment
    }
}
