import CoreMetrics
import Foundation
import Logging
import SecretEncryption
import Store

/// The planner step of the flow: turns pending triggers into planned deployments with their stages.
/// Per trigger it fetches the repository into a mirror, resolves the commit with git, discovers the
/// applications, decides which the push touched and how each deploys, writes their sources to disk and
/// commits one outcome. A failed fetch leaves the trigger pending (retried with backoff); git failing on a
/// fetched commit finishes the trigger with the reason, since a retry would only fail the same way.
public final class Planner: Sendable {
    private let store: any PlannerStore
    let repositories: [String: RepositoryConfig]
    let dataDir: String
    private let logger: Logger
    let git: GitRunner
    let gate = SerialGate()
    let triggerPlanner: TriggerPlanner

    /// Triggers read from the store per round trip.
    /// Pending triggers read per step; a webhook storm's deliveries to one branch are planned once per batch.
    static let batchSize = 1000
    /// With nothing to do, a pass still runs this often: a trigger whose wake-up was lost is not stuck.
    static let idleRecheckSeconds = 30.0
    static let firstRetryDelay = 1.0
    static let maxRetryDelay = 60.0

    /// - Parameters:
    ///   - functions: the app kinds the functions declare, and their planning invocations; nil reads only generic
    ///     `App` configs.
    ///   - secretKey: the private key of `secretManagement`, which opens an app's `spec.encryption`; without it such
    ///     an app is not deployed.
    public init(store: any PlannerStore, repositories: [RepositoryConfig], platforms: [PlatformConfig],
                functions: PlatformFunctions?, secretKey: SecretKey? = nil, dataDir: String, logger: Logger,
                metrics: any MetricsFactory = MetricsSystem.factory) {
        git = GitRunner(metrics: metrics)
        self.store = store
        var byID: [String: RepositoryConfig] = [:]
        for repo in repositories where byID[repo.id] == nil { byID[repo.id] = repo }
        self.repositories = byID
        self.dataDir = Planner.absolute(dataDir)
        self.logger = logger
        self.triggerPlanner = TriggerPlanner(store: store, dataDir: self.dataDir, platforms: platforms,
                                             functions: functions, secrets: SecretDecryption(key: secretKey),
                                             logger: logger)
    }

    /// Where the planner put the app's directory at a deployment's commits (the engine passes these to functions).
    public static func sourcesDirectory(dataDir: String, deploymentID: String) -> (target: String, running: String) {
        let dir = absolute(dataDir)
        return (target: DataLayout.targetSources(dir, deploymentID: deploymentID),
                running: DataLayout.runningSources(dir, deploymentID: deploymentID))
    }

    /// Plans every pending trigger (oldest first) and commits each outcome with store.commitPlan. Returns the
    /// number of deployments created. Throws the first failure (a git error names the command and what git
    /// said); the failed trigger stays pending, and triggers of other repositories are still planned.
    public func planPending() async throws -> Int {
        let report = await pass(skipping: [])
        if let error = report.storeError ?? report.failures.first?.error { throw error }
        return report.created
    }

    /// Loop: planPending, then wait on `wakeup` (or a retry delay after a failure); calls onPlanned() after
    /// deployments were committed. Returns when the task is cancelled. A repository whose git work failed is
    /// retried after 1 s, doubling to 60 s, while the other repositories keep being planned.
    public func run(wakeup: Wakeup, onPlanned: @escaping @Sendable () -> Void) async {
        var backoff: [String: (delay: Double, retryAt: Date)] = [:]
        var storeDelay = Planner.firstRetryDelay
        while !Task.isCancelled {
            let started = Date()
            let blocked = Set(backoff.filter { $0.value.retryAt > started }.keys)
            let report = await pass(skipping: blocked)
            if report.created > 0 { onPlanned() }

            let failed = Set(report.failures.map(\.repository))
            for repo in backoff.keys where !blocked.contains(repo) && !failed.contains(repo) { backoff[repo] = nil }
            for (repo, error) in report.failures {
                let delay = backoff[repo].map { min($0.delay * 2, Planner.maxRetryDelay) } ?? Planner.firstRetryDelay
                backoff[repo] = (delay, Date().addingTimeInterval(delay))
                logger.error("planning failed; the trigger stays pending",
                             metadata: ["repository": "\(repo)", "retryIn": "\(delay)s", "error": "\(error)"])
            }

            var timeout = Planner.idleRecheckSeconds
            if let error = report.storeError {
                logger.error("planner pass failed", metadata: ["retryIn": "\(storeDelay)s", "error": "\(error)"])
                timeout = storeDelay
                storeDelay = min(storeDelay * 2, Planner.maxRetryDelay)
            } else {
                storeDelay = Planner.firstRetryDelay
            }
            if let next = backoff.values.map(\.retryAt).min() {
                timeout = min(timeout, max(0.01, next.timeIntervalSinceNow))
            }
            if Task.isCancelled { break }
            await withTaskCancellationHandler {
                await wakeup.wait(timeout: timeout)
            } onCancel: {
                wakeup.signal()
            }
        }
    }

    struct PassReport {
        var created = 0
        var failures: [(repository: String, error: Error)] = []
        /// Reading pending triggers or committing an outcome that needs no git failed.
        var storeError: Error?
    }

    /// One pass over the pending triggers, oldest first. Passes never overlap: two would plan a trigger twice.
    private func pass(skipping blocked: Set<String>) async -> PassReport {
        await gate.serialized { await passUnlocked(skipping: blocked) }
    }

    private func passUnlocked(skipping blocked: Set<String>) async -> PassReport {
        var report = PassReport()
        var seen = Set<Int64>()
        var failedRepositories = blocked
        /// When each repository's mirror was last fetched in this pass: a trigger committed after that names a
        /// push the mirror may not have yet, so it is fetched again.
        var fetchedAt: [String: Date] = [:]
        do {
            while !Task.isCancelled {
                let batch = try await store.pendingTriggers(limit: Planner.batchSize, excluding: failedRepositories)
                    .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
                let fresh = batch.filter { !seen.contains($0.id) }
                if fresh.isEmpty { break }
                // Webhook and reconcile triggers all plan the branch head: per repository, the newest one of the
                // batch is planned once and the others are finished with it (a storm of deliveries costs one plan
                // per batch, not one per delivery). A pull request's pushes are previewed once the same way. Manual
                // syncs name an application and are planned one by one.
                var newest: [String: Trigger] = [:]
                var groupIDs: [String: [Int64]] = [:]
                for trigger in fresh {
                    guard let group = Self.coalescingGroup(trigger.trigger) else { continue }
                    newest[group] = trigger
                    groupIDs[group, default: []].append(trigger.id)
                }
                for trigger in fresh {
                    if Task.isCancelled { break }
                    if seen.contains(trigger.id) { continue }
                    let repoID = trigger.trigger.repository
                    // A repository that failed keeps its later triggers pending too: their order matters.
                    if failedRepositories.contains(repoID) { seen.insert(trigger.id); continue }
                    let group = Self.coalescingGroup(trigger.trigger)
                    let planned = group.flatMap { newest[$0] } ?? trigger
                    let coalesced = group.map { (groupIDs[$0] ?? []).filter { $0 != planned.id } } ?? []
                    seen.insert(planned.id)
                    seen.formUnion(coalesced)
                    guard let repository = repositories[repoID] else {
                        let note = "unknown repository \(repoID): it is not in the server config"
                        var outcome = PlanOutcome(triggerID: planned.id, applications: [], deployments: [], note: note)
                        outcome.coalesced = coalesced
                        try await store.commitPlan(outcome)
                        logger.warning("trigger dropped", metadata: ["trigger": "\(planned.id)", "note": "\(note)"])
                        continue
                    }
                    do {
                        let mirror = Mirror(repository: repository, dataDir: dataDir, git: git)
                        if let at = fetchedAt[repoID], at > planned.createdAt {
                            // Fetched after this trigger was committed: the mirror has its push.
                        } else {
                            let started = Date()
                            try await mirror.sync()
                            fetchedAt[repoID] = started
                        }
                        var outcome: PlanOutcome
                        do {
                            if planned.trigger.kind == .pullRequest, let pullRequest = planned.trigger.pullRequest {
                                outcome = await triggerPlanner.previewOutcome(planned, pullRequest, repository: repository,
                                                                              mirror: mirror)
                            } else {
                                outcome = try await triggerPlanner.plan(planned, repository: repository, mirror: mirror)
                            }
                        } catch let error as GitError {
                            // The fetch worked, so git failing on the fetched commit is a property of that commit
                            // and would fail on every retry while holding back every later trigger of the
                            // repository: the trigger ends here, with the reason. The next push is planned anew.
                            outcome = PlanOutcome(triggerID: planned.id, applications: [], deployments: [],
                                                  note: "planning failed: \(error)")
                            logger.error("planning failed for good; the trigger is finished with the reason",
                                         metadata: ["repository": "\(repoID)", "trigger": "\(planned.id)", "error": "\(error)"])
                        }
                        outcome.coalesced = coalesced
                        try await store.commitPlan(outcome)
                        triggerPlanner.settled.committed(repository: repoID, trigger: planned.id)
                        report.created += outcome.deployments.count
                        log(outcome, repository: repoID)
                    } catch {
                        failedRepositories.insert(repoID)
                        report.failures.append((repoID, error))
                    }
                }
                if batch.count < Planner.batchSize { break }
            }
        } catch {
            report.storeError = error
        }
        return report
    }

    /// Triggers of one group answer each other: the newest of a batch is planned for all. nil: planned alone.
    static func coalescingGroup(_ trigger: NewTrigger) -> String? {
        switch trigger.kind {
        case .manual: return nil
        case .pullRequest: return trigger.pullRequest.map { "pr:\(trigger.repository)#\($0.number)" }
        case .webhook, .reconcile: return trigger.repository
        }
    }

    private func log(_ outcome: PlanOutcome, repository: String) {
        for detail in outcome.deployments {
            let d = detail.deployment
            logger.info("deployment planned", metadata: [
                "trigger": "\(outcome.triggerID)", "repository": "\(repository)", "application": "\(d.application)",
                "deployment": "\(d.id)", "commit": "\(short(d.commit))", "strategy": "\(d.strategy.rawValue)",
                "stages": "\(detail.stages.filter { !$0.rollback }.map(\.name).joined(separator: ","))",
            ])
        }
        if !outcome.note.isEmpty {
            logger.info("trigger planned", metadata: ["trigger": "\(outcome.triggerID)", "repository": "\(repository)",
                                                      "note": "\(outcome.note)"])
        }
    }

    private static func absolute(_ path: String) -> String {
        var p = URL(fileURLWithPath: path).standardizedFileURL.path
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        return p
    }
}
