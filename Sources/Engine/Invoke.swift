import Foundation
import FunctionHost
import FunctionKit
import Store

extension Engine {
    /// Leases the stage (attempt + 1, committed first), then runs its function in the background.
    func start(_ stage: Stage, of d: Deployment, resume: FunctionEvent.ResumeInfo?, now: Date) async throws {
        let platform = d.platform.flatMap { config.platforms[$0] }
        guard let function = registry.function(forStage: stage.name, platformKind: platform?.kind) else {
            try await store.setStageStatus(deploymentID: d.id, index: stage.index, status: .failure,
                                           message: "no function for stage \(stage.name)", now: now)
            wakeup.signal()
            return
        }
        let leaseEnd = now.addingTimeInterval(function.timeout + function.gracePeriod + 60)
        // Waking a suspended stage continues its attempt; anything else (first run, crash recovery) is a new one.
        let newAttempt = stage.status != .suspended || stage.waitingFor == "retry"
        guard let leased = try await store.leaseStage(deploymentID: d.id, index: stage.index, expectedAttempt: stage.attempt,
                                                      newAttempt: newAttempt, owner: config.owner, leaseExpiry: leaseEnd,
                                                      now: now) else {
            return   // someone else moved the stage meanwhile; the next tick sees its new state
        }
        let key = StageKey(deployment: d.id, index: stage.index)
        // A stage past its own deadline fails without another invocation, even after downtime.
        let deadlines = [leased.deadline, d.deadline].compactMap { $0 }
        if let passed = deadlines.min(), passed <= now {
            _ = try await store.finishAttempt(deploymentID: d.id, index: stage.index, attempt: leased.attempt, status: .failure,
                                              message: "DeadlineExceeded: stage deadline passed before attempt \(leased.attempt)",
                                              resumeAt: nil, waitingFor: nil, now: now)
            wakeup.signal()
            return
        }
        let approvals = try await store.approvals(deploymentID: d.id, stageIndex: stage.index)
        approvalsSeen[key] = approvals.count
        let deadline = ([now.addingTimeInterval(function.timeout)] + deadlines).min()!
        let request = try makeRequest(leased, of: d, function: function, platform: platform, approvals: approvals,
                                      resume: resume, deadline: deadline)
        let control = InvocationControl()
        running[key] = control
        logger.info("stage \(stage.index) \(stage.name) of \(d.id): attempt \(leased.attempt) with \(function.name)")
        runningTasks[key] = Task { [store, host] in
            let outcome = await Self.invoke(host: host, store: store, request: request, stage: leased, control: control)
            await self.finished(key: key, stage: leased, outcome: outcome)
        }
    }

    private func makeRequest(_ stage: Stage, of d: Deployment, function: FunctionSpec, platform: PlatformInfo?,
                             approvals: [Approval], resume: FunctionEvent.ResumeInfo?, deadline: Date) throws -> InvocationRequest {
        let running = DataLayout.runningSources(config.dataDir, deploymentID: d.id)
        let event = FunctionEvent(
            // The id is unique per invocation (a resumed stage is invoked again within the same attempt).
            invocation: .init(id: "\(d.id)-\(stage.index)-\(stage.attempt)-\(UUID().uuidString.prefix(8).lowercased())",
                              key: "\(d.id)-\(stage.index)",
                              attempt: stage.attempt, deadline: RFC3339.format(deadline)),
            deployment: .init(id: d.id, application: d.application, commit: d.commit, runningCommit: d.runningCommit,
                              trigger: .init(kind: d.triggerKind.rawValue, commitMessage: d.commitMessage, author: d.author)),
            stage: .init(index: stage.index, name: stage.name, with: (try? JSONValue.decode(stage.withJSON)) ?? .object([:]),
                         rollback: stage.rollback),
            checkpoint: stage.checkpoint.flatMap { try? JSONValue.decode($0) },
            sources: .init(target: DataLayout.targetSources(config.dataDir, deploymentID: d.id),
                           running: FileManager.default.fileExists(atPath: running) ? running : nil),
            platform: platform?.settings ?? .object([:]),
            approvals: approvals.map { .init(by: $0.approver, at: RFC3339.format($0.at)) },
            resume: resume)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var env = config.environment
        env["GANTRY_DEPLOYMENT_ID"] = d.id
        env["GANTRY_APPLICATION"] = d.application
        env["GANTRY_STAGE"] = stage.name
        env["GANTRY_ATTEMPT"] = String(stage.attempt)
        let dir = DataLayout.invocationDir(config.dataDir, deploymentID: d.id, stage: stage.index, attempt: stage.attempt)
        // A directory left by an attempt that crashed the server before it could be cleaned up.
        try? FileManager.default.removeItem(atPath: dir)
        return InvocationRequest(id: event.invocation.id, function: function, event: try encoder.encode(event),
                                 directory: dir, environment: env, deadline: deadline)
    }

    /// Runs one attempt on the host's thread. Checkpoints and log lines are committed from that thread before it
    /// reads further, so what the store holds is never behind what the function believes it saved.
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
                case .checkpoint(let value, _):
                    _ = runBlocking { try await store.saveCheckpoint(deploymentID: id, index: index, attempt: attempt,
                                                                     checkpoint: value.encoded()) }
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

    /// Applies an attempt's outcome (fenced by attempt), then wakes the loop.
    func finished(key: StageKey, stage: Stage, outcome: AttemptOutcome) async {
        running[key] = nil
        runningTasks[key] = nil
        try? FileManager.default.removeItem(atPath: DataLayout.invocationDir(config.dataDir, deploymentID: stage.deploymentID,
                                                                            stage: stage.index, attempt: stage.attempt))
        // Shutting down: leave the stage RUNNING; the next start re-invokes it with its checkpoint.
        if stopping { return }
        let r = outcome.result
        var status: StageStatus
        switch r.status {
        case .succeeded: status = .success
        case .failed: status = .failure
        case .suspended: status = .suspended
        case .skipped: status = .skipped
        case .exited: status = .exited
        }
        if outcome.errorType == "Cancelled" { status = .cancelled }
        var message = r.message ?? ""
        if let type = outcome.errorType, status == .failure { message = "\(type): \(message)" }
        var resumeAt = r.resumeAt.flatMap(RFC3339.parse)
        if status == .suspended && resumeAt == nil && r.waitingFor == nil {
            status = .failure
            message = "ProtocolError: suspended without resumeAt or waitFor"
        }
        if status != .suspended { resumeAt = nil }
        var waitingFor = status == .suspended ? r.waitingFor : nil
        // A retryable failure with attempts left waits out its backoff, then runs as a new attempt.
        if status == .failure, r.saysRetryable, let policy = stage.retry, stage.attempt < policy.maxAttempts {
            let delay = policy.backoff(afterAttempt: stage.attempt)
            status = .suspended
            resumeAt = Date().addingTimeInterval(delay)
            waitingFor = "retry"
            message = "attempt \(stage.attempt) of \(policy.maxAttempts) failed, retrying in \(DurationText.format(delay)): \(message)"
        }
        let rep = outcome.report
        let summary = "gantry: attempt \(stage.attempt) \(status.rawValue)\(message.isEmpty ? "" : ": " + message)"
            + " (wall \(rep.wallMs) ms, cpu \(rep.cpuMs) ms, max rss \(rep.maxRssKiB) KiB)"
        do {
            try await store.appendLogs([StageLogLine(deploymentID: stage.deploymentID, stageIndex: stage.index,
                                                     attempt: stage.attempt, line: summary)])
            let applied = try await store.finishAttempt(deploymentID: stage.deploymentID, index: stage.index,
                                                        attempt: stage.attempt, status: status, message: message,
                                                        resumeAt: resumeAt, waitingFor: waitingFor, now: Date())
            if !applied { logger.warning("discarded the result of a stale attempt \(stage.attempt) of \(key)") }
        } catch {
            logger.error("could not store the result of \(key): \(error)")
        }
        wakeup.signal()
    }
}
