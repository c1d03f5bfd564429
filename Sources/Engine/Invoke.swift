import Foundation
import FunctionHost
import FunctionKit
import Store

extension Engine {
    /// Leases the stage for one invocation (committed first), then runs its function in the background.
    func start(_ stage: Stage, of d: Deployment, resume: FunctionEvent.ResumeInfo?, now: Date) async throws {
        let platform = d.platform.flatMap { config.platforms[$0] }
        guard let function = functions.function(forStage: stage.name, platformKind: platform?.kind) else {
            try await store.apply([.stage(index: stage.index, status: .failure, message: "no function for stage \(stage.name)")],
                                  to: d.id, now: now)
            wakeup.signal(deployment: d.id)
            return
        }
        // A full concurrency slot: wait; the invocation holding it wakes the engine when it ends.
        let slot = Self.slot(for: function, of: d)
        if let slot, let limit = function.concurrency?.limit, runningSlots.values.filter({ $0 == slot }).count >= limit {
            waitingForSlot.insert(d.id)
            return
        }
        // Before the lease: a failure here leaves the stage as it was, for the next tick to try again.
        if let prepare = config.prepareSources { try await prepare(d) }
        let lease = Lease(stage: stage, function: function, slot: slot, config: config, now: now)
        guard let (leased, invocationID) = try await store.leaseStage(lease.request) else {
            // Someone else moved the stage meanwhile (the next tick sees its new state), or the function's slot is
            // full on another replica: look again soon.
            if slot != nil { waitingForSlot.insert(d.id) }
            return
        }
        try await launch(leased, invocationID: invocationID, as: lease, of: d, resume: resume, now: now)
    }

    /// One lease about to be asked for, and what its invocation needs once it is granted.
    struct Lease {
        let stage: Stage
        let function: FunctionSpec
        let slot: String?
        let callback: (token: String, hash: String)
        let request: LeaseRequest

        init(stage: Stage, function: FunctionSpec, slot: String?, config: EngineConfig, now: Date) {
            self.stage = stage; self.function = function; self.slot = slot
            let callback = CallbackToken.make()
            self.callback = (callback.token, callback.hash)
            // Short and renewed by the heartbeat while the function runs: a dead replica's stages move on soon.
            // Waking a suspended stage continues its attempt; a first run, a retry or a crash recovery is a new one.
            request = LeaseRequest(
                deploymentID: stage.deploymentID, index: stage.index, expectedAttempt: stage.attempt,
                expectedStatus: stage.status, newAttempt: stage.status != .suspended || stage.waitingFor == "retry",
                owner: config.owner, leaseExpiry: now.addingTimeInterval(config.leaseSeconds),
                functionName: function.name, functionVersion: function.version, callbackHash: callback.hash,
                concurrency: slot.flatMap { s in function.concurrency.map { ConcurrencySlot(slot: s, limit: $0.limit) } },
                now: now)
        }
    }

    /// Runs the function of a leased stage in the background, or fails the stage at once when it may not run.
    private func launch(_ leased: Stage, invocationID: Int64, as lease: Lease, of d: Deployment,
                        resume: FunctionEvent.ResumeInfo?, now: Date) async throws {
        let stage = lease.stage, function = lease.function
        let platform = d.platform.flatMap { config.platforms[$0] }
        let key = StageKey(deployment: d.id, index: stage.index)
        deferredSince[key] = nil
        waitingForSlot.remove(d.id)
        if stage.status == .running, let previous = stage.leaseOwner {
            try await store.appendLogs([StageLogLine(deploymentID: d.id, stageIndex: stage.index, attempt: leased.attempt,
                                                     line: "gantry: \(config.replica) took this stage over from \(previous) (lease expired); attempt \(leased.attempt)")])
        }
        func failNow(_ type: String, _ message: String) async throws {
            _ = try await store.finishAttempt(AttemptFinish(
                deploymentID: d.id, index: stage.index, attempt: leased.attempt, invocationID: invocationID,
                status: .failure, errorType: type, message: "\(type): \(message)", resumeAt: nil, waitingFor: nil,
                reportJSON: nil, now: now))
            wakeup.signal(deployment: d.id)
        }
        // A stage past its own deadline, or its phase's (the deployment's for a forward stage, the rollback's for a
        // rollback stage), fails without another invocation, even after downtime or mid-backoff.
        let phase = stage.rollback ? d.rollbackDeadline : d.deadline
        let deadlines = [leased.deadline, phase].compactMap { $0 }
        if let passed = deadlines.min(), passed <= now {
            let which = passed == leased.deadline ? "stage" : stage.rollback ? "rollback" : "deployment"
            return try await failNow("DeadlineExceeded", "the \(which) deadline passed before attempt \(leased.attempt) could run")
        }
        if leased.recoveries > function.maxRecoveries {
            return try await failNow("RecoveryLimit", "the server stopped during this stage \(leased.recoveries) times (maxRecoveries \(function.maxRecoveries))")
        }
        if leased.checkpoint != nil, let readable = function.checkpointSchemas,
           !readable.contains(leased.checkpointSchema ?? 1) {
            return try await failNow("CheckpointIncompatible",
                                     "checkpoint schema \(leased.checkpointSchema ?? 1) is not among \(function.name)'s checkpointSchemas \(readable)")
        }
        // A first run has no approvals yet: only a stage that waited can have some.
        let approvals = stage.status == .notStarted ? []
            : try await store.approvals(deploymentID: d.id, stageIndex: stage.index)
        approvalsSeen[key] = approvals.count
        let deadline = ([now.addingTimeInterval(function.timeout)] + deadlines).min()!
        let resumeInfo = leased.resumeJSON.flatMap { try? JSONDecoder().decode(FunctionEvent.ResumeInfo.self, from: Data($0.utf8)) }
            ?? resume
        let labels = try await store.application(named: d.application)?.labels ?? [:]
        let request = try makeRequest(leased, of: d, function: function, platform: platform, approvals: approvals,
                                      labels: labels, resume: resumeInfo, deadline: deadline,
                                      callbackToken: lease.callback.token)
        let control = InvocationControl()
        running[key] = control
        runningAttempts[key] = leased.attempt
        runningSlots[key] = lease.slot
        logger.info("stage \(stage.index) \(stage.name) of \(d.id): attempt \(leased.attempt) with \(function.name)")
        runningTasks[key] = Task { [store, host] in
            let outcome = await Self.invoke(host: host, store: store, request: request, stage: leased, control: control)
            await self.finished(key: key, stage: leased, deployment: d, invocationID: invocationID, function: function,
                                outcome: outcome)
        }
    }

    private func makeRequest(_ stage: Stage, of d: Deployment, function: FunctionSpec, platform: PlatformInfo?,
                             approvals: [Approval], labels: [String: String], resume: FunctionEvent.ResumeInfo?,
                             deadline: Date, callbackToken: String) throws -> InvocationRequest {
        let running = DataLayout.runningSources(config.dataDir, deploymentID: d.id)
        let shared = DataLayout.sharedSources(config.dataDir, deploymentID: d.id)
        let sections = function.serverConfig.compactMap { name in config.sections[name].map { (name, $0) } }
        let event = FunctionEvent(
            // The id is unique per invocation (a resumed stage is invoked again within the same attempt).
            invocation: .init(id: "\(d.id)-\(stage.index)-\(stage.attempt)-\(UUID().uuidString.prefix(8).lowercased())",
                              key: "\(d.id)-\(stage.index)", attempt: stage.attempt, deadline: RFC3339.format(deadline),
                              recovery: stage.recoveries, callbackToken: callbackToken),
            deployment: .init(id: d.id, application: d.application, commit: d.commit, runningCommit: d.runningCommit,
                              trigger: .init(kind: d.triggerKind.rawValue, commitMessage: d.commitMessage, author: d.author),
                              triggeredAt: RFC3339.format(d.createdAt), summary: d.summary, labels: labels,
                              repositoryURL: config.repositoryURLs[d.repository]),
            stage: .init(index: stage.index, name: stage.name, with: (try? JSONValue.decode(stage.withJSON)) ?? .object([:]),
                         rollback: stage.rollback, deadline: stage.deadline.map(RFC3339.format)),
            checkpoint: stage.checkpoint.flatMap { try? JSONValue.decode($0) },
            sources: .init(target: DataLayout.targetSources(config.dataDir, deploymentID: d.id),
                           running: FileManager.default.fileExists(atPath: running) ? running : nil,
                           shared: FileManager.default.fileExists(atPath: shared) ? shared : nil),
            platform: platform?.settings ?? .object([:]),
            approvals: approvals.map { .init(by: $0.approver, at: RFC3339.format($0.at)) },
            resume: resume,
            function: .init(name: function.name, version: function.version),
            outputs: (stageOutputs[d.id] ?? [:]).filter { $0.key != String(stage.index) },
            serverConfig: Dictionary(sections.map { ($0.0, $0.1.value) }, uniquingKeysWith: { first, _ in first }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var env = config.environment
        env["GANTRY_DEPLOYMENT_ID"] = d.id
        env["GANTRY_APPLICATION"] = d.application
        env["GANTRY_STAGE"] = stage.name
        env["GANTRY_STAGE_INDEX"] = String(stage.index)
        env["GANTRY_ATTEMPT"] = String(stage.attempt)
        if let api = config.environment["GANTRY_API_URL"] { env["GANTRY_CALLBACK_URL"] = "\(api)/api/v1/callbacks/\(callbackToken)" }
        let cache = DataLayout.functionCache(config.dataDir, function: function.name)
        if (try? FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])) != nil {
            env["GANTRY_CACHE"] = cache
        }
        let dir = DataLayout.invocationDir(config.dataDir, deploymentID: d.id, stage: stage.index, attempt: stage.attempt)
        // A directory left by an earlier invocation of this attempt (resumed) or by a crash.
        FunctionHost.removeInvocationDirectory(dir)
        // Only what the function declares is delivered (as files); every configured value is redacted everywhere.
        // A section's secrets come with the section: the function could not name them in advance.
        var secrets: [String: String] = [:]
        for name in function.secrets { secrets[name] = config.secrets[name] }
        for (_, section) in sections { secrets.merge(section.secrets) { declared, _ in declared } }
        // What the function reads besides its own folder stays visible under isolation, read-only.
        let readOnly = [event.sources.target] + [event.sources.running, event.sources.shared].compactMap { $0 }
            + FunctionIsolation.pathsNamed(in: event.platform)
        return InvocationRequest(id: event.invocation.id, function: function, event: try encoder.encode(event),
                                 directory: dir, environment: env, deadline: deadline, secrets: secrets,
                                 redactions: Array(config.secrets.values) + config.sections.values.flatMap { $0.secrets.values },
                                 cacheDirectory: env["GANTRY_CACHE"], readOnlyPaths: readOnly)
    }

    /// Runs one invocation on the host's thread. Checkpoints and log lines are committed from that thread before
    /// it reads further, so what the store holds is never behind what the function believes it saved.
    private static func invoke(host: FunctionHost, store: any EngineStore, request: InvocationRequest, stage: Stage,
                               control: InvocationControl) async -> AttemptOutcome {
        let id = stage.deploymentID, index = stage.index, attempt = stage.attempt
        return await host.invoke(request, control: control,
            onStarted: { group, start in
                _ = runBlocking { try await store.recordProcess(deploymentID: id, index: index, attempt: attempt,
                                                                group: group, start: start) }
            },
            onMessage: { message in
                switch message {
                case .checkpoint(let value, let schema):
                    _ = runBlocking { try await store.saveCheckpoint(deploymentID: id, index: index, attempt: attempt,
                                                                     checkpoint: value.encoded(), schema: schema) }
                case .output(let values):
                    _ = runBlocking { try await store.mergeOutputs(deploymentID: id, index: index, attempt: attempt,
                                                                   outputs: values) }
                case .heartbeat, .result:
                    break
                }
            },
            onLog: { lines in
                let now = Date()
                _ = runBlocking { try await store.appendLogs(lines.map {
                    StageLogLine(deploymentID: id, stageIndex: index, attempt: attempt, at: now, line: $0) }) }
            })
    }

    /// Applies an invocation's outcome (fenced by attempt). After a success, the deployment's next stage is leased in
    /// the same commit and started here when nothing else is to be decided first; otherwise the loop is woken.
    func finished(key: StageKey, stage: Stage, deployment d: Deployment, invocationID: Int64, function: FunctionSpec,
                  outcome: AttemptOutcome) async {
        // The stage stays in `running` until its result is committed, so no tick sees it free before then.
        var followed = false
        defer {
            running[key] = nil
            runningTasks[key] = nil
            runningAttempts[key] = nil
            runningSlots[key] = nil
            if !followed { wakeup.signal(deployment: key.deployment) }
            for id in waitingForSlot { wakeup.signal(deployment: id) }
            waitingForSlot = []
        }
        FunctionHost.removeInvocationDirectory(DataLayout.invocationDir(config.dataDir, deploymentID: stage.deploymentID,
                                                                        stage: stage.index, attempt: stage.attempt))
        // Shutting down: leave the stage RUNNING; the next start re-invokes it with its checkpoint.
        if stopping { return }
        let now = Date()
        let decision = OutcomeDecision(outcome: outcome, stage: stage, now: now)
        Metrics.recordInvocation(function: function.name, decision: decision, report: outcome.report, factory: config.metricsFactory)
        let rep = outcome.report
        let summary = "gantry: attempt \(stage.attempt) \(decision.status.rawValue)"
            + (decision.message.isEmpty ? "" : ": " + decision.message)
            + " (wall \(rep.wallMs) ms, cpu \(rep.cpuMs) ms, max rss \(rep.maxRssKiB) KiB)"
        let next = decision.status == .success ? await followOn(succeeded: stage, of: d, now: now) : nil
        do {
            let result = try await store.finishAttempt(AttemptFinish(
                deploymentID: stage.deploymentID, index: stage.index, attempt: stage.attempt, invocationID: invocationID,
                status: decision.status, errorType: decision.errorType, message: decision.message,
                resumeAt: decision.resumeAt, waitingFor: decision.waitingFor, reportJSON: Self.json(rep),
                logLine: summary, next: next?.request, now: now))
            if !result.applied { logger.warning("discarded the result of a stale attempt \(stage.attempt) of \(key)") }
            if let next, let (leased, nextInvocation) = result.next {
                if result.outputs != "{}" {
                    stageOutputs[d.id, default: [:]][String(stage.index)] =
                        try? JSONDecoder().decode([String: String].self, from: Data(result.outputs.utf8))
                }
                followed = true
                try await launch(leased, invocationID: nextInvocation, as: next, of: d, resume: nil, now: now)
            }
        } catch {
            logger.error("could not store the result of \(key) or start the stage after it: \(error)")
            followed = false
        }
    }

    /// The lease of the stage after `stage`, when it can be taken with its outcome: the engine would start it next
    /// and nothing stands in the way here (its function exists and has no concurrency limit, this replica is the
    /// one its deployment prefers). Otherwise the loop decides, one commit later.
    private func followOn(succeeded stage: Stage, of d: Deployment, now: Date) async -> Lease? {
        let read = try? await store.activeDeployments(ids: [d.id])
        Metrics.deploymentsRead(read?.count ?? 0, factory: config.metricsFactory)
        guard let detail = read?.first,
              let next = DeploymentStep.followOn(succeeded: stage.index, in: detail, owner: config.owner, now: now),
              let function = functions.function(forStage: next.name,
                                                platformKind: d.platform.flatMap { config.platforms[$0] }?.kind),
              function.concurrency == nil, prefersThisReplica(d.id) else { return nil }
        if let prepare = config.prepareSources {
            do { try await prepare(detail.deployment) } catch { return nil }
        }
        return Lease(stage: next, function: function, slot: nil, config: config, now: now)
    }

    /// The slot an invocation takes under its function's `concurrency` (nil: unlimited). A suspended stage holds
    /// none: slots belong to running invocations only.
    static func slot(for function: FunctionSpec, of d: Deployment) -> String? {
        guard let c = function.concurrency else { return nil }
        switch c.key {
        case "application": return "\(function.name)/application=\(d.application)"
        case "platform": return "\(function.name)/platform=\(d.platform ?? "")"
        case "function": return "\(function.name)"
        default: return "global"
        }
    }

    static func json<T: Encodable>(_ value: T) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }
}
