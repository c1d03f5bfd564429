import Foundation
import FunctionHost
import FunctionKit
import Logging
import Store

/// Drives deployments: one active deployment per application, one stage at a time, every transition committed
/// before it takes effect. It sleeps until something wakes it (new deployment, finished invocation, approval,
/// cancel) or the earliest stored timer is due: no polling loop.
public actor Engine {
    public nonisolated let wakeup = Wakeup()
    let store: any EngineStore & ReplicaStore
    let host: FunctionHost
    /// The functions as their folders are now (added, changed or removed ones are seen without a restart).
    let functions: FunctionCatalog
    let config: EngineConfig
    let logger: Logger

    struct StageKey: Hashable { let deployment: String; let index: Int }
    /// Invocations running in this process, by stage.
    var running: [StageKey: InvocationControl] = [:]
    /// Approval count each suspended WAIT_APPROVAL last saw, so a new approval re-invokes it exactly once.
    var approvalsSeen: [StageKey: Int] = [:]
    var stopping = false
    var runningTasks: [StageKey: Task<Void, Never>] = [:]
    var runningAttempts: [StageKey: Int] = [:]
    /// The concurrency slot (see `slot(for:of:)`) each running invocation holds.
    var runningSlots: [StageKey: String] = [:]
    /// First runs found during a tick; started after resumed work, which goes first for free slots.
    var newWork: [(Stage, Deployment)] = []
    /// Outputs of each active deployment's stages as of this tick, for the events of later stages and rollback.
    var stageOutputs: [String: [String: [String: String]]] = [:]
    /// Deployments whose functions' `requires:` were checked (once per process start).
    var requirementsChecked: Set<String> = []
    /// Replicas that beat within a lease period (from the last heartbeat); new work is spread over them.
    var liveReplicas: [String] = []
    /// When this replica first saw a stage ready to start that another live replica is preferred for.
    var deferredSince: [StageKey: Date] = [:]
    /// When each active deployment this engine looked at next needs a look (its earliest timer); events name
    /// their deployment, so a tick reads only those and the due ones, never every active deployment.
    var nextLook: [String: Date] = [:]
    /// Deployments whose next stage waits for a concurrency slot held here: looked at when a slot frees.
    var waitingForSlot: Set<String> = []
    /// Whether this process has looked at every active deployment once (at start, to recover).
    var lookedAtAll = false
    var lastSweep = Date.distantPast
    let startedAt = Date()

    public init(store: any EngineStore & ReplicaStore, host: FunctionHost, functions: FunctionCatalog, config: EngineConfig,
                logger: Logger) {
        self.store = store; self.host = host; self.functions = functions; self.config = config; self.logger = logger
    }

    /// Before serving: stages left RUNNING by a dead process get their leftover process groups killed and a
    /// recovery counted (not after a graceful shutdown); the next tick re-invokes them with attempt + 1 and their
    /// last checkpoint. Timers need nothing: they are stored.
    public func recover() async throws -> Int {
        let orphans = try await store.orphanedStages(replica: config.replica, liveOwner: config.owner, now: Date())
        for stage in orphans {
            if let group = stage.processGroup, let start = stage.processStart,
               FunctionHost.killLeftoverGroup(group, leaderStart: start) {
                logger.warning("killed leftover process group \(group) of \(stage.deploymentID) stage \(stage.index)")
            }
            let why = stage.stopReason == "shutdown" ? "a graceful server shutdown"
                : "a server restart (recovery \(stage.recoveries + 1))"
            _ = try await store.markInterrupted(deploymentID: stage.deploymentID, index: stage.index, now: Date())
            try await store.appendLogs([StageLogLine(deploymentID: stage.deploymentID, stageIndex: stage.index,
                                                     attempt: stage.attempt,
                                                     line: "gantry: attempt \(stage.attempt) was interrupted by \(why); re-invoking")])
        }
        return orphans.count
    }

    /// The engine loop; returns when the surrounding task is cancelled.
    public func run() async {
        let beats = Task { await self.heartbeatLoop() }
        defer { beats.cancel() }
        var carried: Set<String> = []
        while !Task.isCancelled && !stopping {
            var nextDue: Date? = nil
            let named = carried.union(await wakeup.takeDeployments())
            carried = []
            do { nextDue = try await tick(named: named) } catch {
                logger.error("engine tick failed: \(error)")
                carried = named
                nextDue = Date().addingTimeInterval(1)
            }
            // Another replica's wake-up can be lost with its connection: look again after a sweep period anyway.
            let timeout = min(nextDue.map { max(0, $0.timeIntervalSinceNow) + 0.005 } ?? config.sweepSeconds,
                              config.sweepSeconds)
            await wakeup.wait(timeout: timeout)
        }
    }

    /// Graceful stop: running functions get `shutdown`; their stages stay RUNNING and are re-invoked elsewhere or
    /// after restart, like a crash but with no lost work and no recovery counted. Once a function has exited its
    /// lease is released, so another replica takes the stage over now (a rolling update costs no lease period).
    public func shutdown() async {
        stopping = true
        var stopped: [(StageKey, Int)] = []
        for (key, control) in running {
            if let attempt = runningAttempts[key] {
                try? await store.markShutdown(deploymentID: key.deployment, index: key.index, attempt: attempt)
                stopped.append((key, attempt))
            }
            control.stop(.shutdown)
        }
        for task in runningTasks.values { await task.value }
        for (key, attempt) in stopped {
            try? await store.releaseShutdownLease(deploymentID: key.deployment, index: key.index, attempt: attempt, now: Date())
        }
        wakeup.signal()
    }

    /// One pass over the deployments that need a look: the ones events named, the ones whose timer is due, newly
    /// started ones, and on each sweep the ones the store finds due or stale. At start, every active deployment.
    /// Returns when the engine must look again at the latest.
    func tick(named: Set<String>) async throws -> Date? {
        let now = Date()
        // Deployments waiting for a concurrency slot try again on every wake-up: a slot freed on another replica
        // comes with that replica's wake-up for its own deployment, not theirs.
        var ids = named.union(waitingForSlot)
        for d in try await store.activateNextDeployments(now: now) {
            logger.info("deployment \(d.id) of \(d.application) at \(d.commit.prefix(8)) started")
            ids.insert(d.id)
        }
        var details: [DeploymentDetail]
        if !lookedAtAll {
            details = try await store.activeDeployments()
            lookedAtAll = true
            lastSweep = now
        } else {
            for (id, at) in nextLook where at <= now { ids.insert(id) }
            details = try await store.activeDeployments(ids: Array(ids))
            if now.timeIntervalSince(lastSweep) >= config.sweepSeconds {
                // A wake-up from another replica can be lost with its connection: the sweep reads what is due.
                lastSweep = now
                Metrics.sweep(factory: config.metricsFactory)
                let seen = Set(details.map(\.deployment.id))
                details += try await store.dueDeployments(now: now).filter { !seen.contains($0.deployment.id) }
            }
        }
        Metrics.deploymentsRead(details.count, factory: config.metricsFactory)
        let active = Set(details.map(\.deployment.id))
        for id in ids where !active.contains(id) { nextLook[id] = nil; waitingForSlot.remove(id) }
        newWork = []
        for detail in details {
            nextLook[detail.deployment.id] = try await advance(detail, now: now)
        }
        let waiting = newWork
        newWork = []
        for (stage, deployment) in waiting {
            if let later = deferral(of: stage, now: now) {
                nextLook[deployment.id] = min(nextLook[deployment.id] ?? later, later)
                continue
            }
            try await start(stage, of: deployment, resume: nil, now: now)
        }
        // And at least once a second, should that wake-up be lost.
        for id in waitingForSlot { nextLook[id] = min(nextLook[id] ?? .distantFuture, now.addingTimeInterval(1)) }
        return ([lastSweep.addingTimeInterval(config.sweepSeconds)] + nextLook.values).min()
    }
}
