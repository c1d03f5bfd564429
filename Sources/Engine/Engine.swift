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
        while !Task.isCancelled && !stopping {
            var nextDue: Date? = nil
            do { nextDue = try await tick() } catch {
                logger.error("engine tick failed: \(error)")
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

    /// One pass over all active deployments. Returns when the engine must look again at the latest.
    func tick() async throws -> Date? {
        let now = Date()
        for d in try await store.activateNextDeployments(now: now) {
            logger.info("deployment \(d.id) of \(d.application) at \(d.commit.prefix(8)) started")
        }
        var due: Date? = nil
        func soonest(_ date: Date?) { if let date, due == nil || date < due! { due = date } }
        newWork = []
        for detail in try await store.activeDeployments() {
            soonest(try await advance(detail, now: now))
        }
        let waiting = newWork
        newWork = []
        for (stage, deployment) in waiting {
            if let later = deferral(of: stage, now: now) { soonest(later); continue }
            try await start(stage, of: deployment, resume: nil, now: now)
        }
        return due
    }
}
