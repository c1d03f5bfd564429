import Foundation
import FunctionKit
import Logging
import Store

/// Plans one trigger against a freshly fetched mirror and returns the outcome for `Store.commitPlan`.
/// It writes deployment sources to disk but nothing to the store, so a failure leaves the trigger pending.
struct TriggerPlanner: Sendable {
    let store: any PlannerStore
    let dataDir: String
    let platforms: [PlatformConfig]
    /// The app kinds and the planning invocation; nil: no function is known, so only generic `App`s are read.
    let functions: PlatformFunctions?
    let secrets: SecretDecryption
    let logger: Logger
    let configCache = ConfigCache()
    let configIndex = ConfigFileIndex()
    let settled = SettledApps()

    func plan(_ trigger: Trigger, repository: RepositoryConfig, mirror: Mirror) async throws -> PlanOutcome {
        let request = trigger.trigger
        let branchRef = "refs/heads/\(repository.branch)"
        guard request.ref.isEmpty || request.ref == branchRef || request.ref == repository.branch else {
            return PlanOutcome(triggerID: trigger.id, applications: [], deployments: [],
                               note: "ref \(request.ref) is not the configured branch \(branchRef) of repository \(repository.id)")
        }

        // Git is the source of truth: whatever the delivery names, the branch head as git resolves it now is what
        // gets deployed. A late or replayed delivery then finds its apps at the head already and deploys nothing;
        // a force-push back to an older commit deploys that commit (a rollback by Git).
        let commit = try await mirror.head()
        let info = try await mirror.commitInfo(commit)
        let discovery = try await AppDiscovery.discover(mirror: mirror, commit: commit, repositoryID: repository.id,
                                                        platforms: platforms, kinds: functions?.appKinds ?? .none,
                                                        cache: configCache, index: configIndex)
        var stored: [String: Application] = [:]
        for app in try await store.applications(repository: repository.id) { stored[app.name] = app }

        var work = Work(commit: commit, info: info, problems: discovery.problems)
        if request.application == nil { work.settled = settled.snapshot(repository: repository.id) }
        if let hint = request.commit, !hint.isEmpty, request.kind != .manual, !commit.hasPrefix(hint.lowercased()) {
            work.notHead = "\(short(hint)) is no longer the head of \(repository.branch) (\(short(commit)) is); planned the head"
        }
        let manualTarget = request.application
        var foundManualTarget = false
        do {
            try await planApps(discovery.apps, stored: stored, request: request, repository: repository, mirror: mirror,
                               work: &work, foundManualTarget: &foundManualTarget)
        } catch {
            // Nothing is committed for this trigger: the sources already written would be orphans.
            for detail in work.deployments { removeSources(of: detail.deployment.id) }
            throw error
        }

        if let manualTarget, !foundManualTarget {
            work.problems.insert("no application named \(manualTarget) in repository \(repository.id) at \(short(commit))", at: 0)
        }
        // A manual sync looks at one application only: it settles nothing about the others.
        if manualTarget == nil { settled.propose(work.settling, repository: repository.id, trigger: trigger.id) }
        var outcome = PlanOutcome(triggerID: trigger.id, applications: work.applications, deployments: work.deployments,
                                  note: work.note(discoveredAny: !discovery.apps.isEmpty || !discovery.problems.isEmpty,
                                                  manual: manualTarget != nil))
        outcome.failures = work.failures
        return outcome
    }

    private func planApps(_ apps: [DiscoveredApp], stored: [String: Application], request: NewTrigger,
                          repository: RepositoryConfig, mirror: Mirror, work: inout Work,
                          foundManualTarget: inout Bool) async throws {
        let manualTarget = request.application
        var planned = Set<String>()
        for app in keepingKnownNames(apps, stored: stored) {
            if !planned.insert(app.name).inserted {
                work.problems.append("\(app.configFile): duplicate application name \(app.name)")
                continue
            }
            let existing = stored[app.name]
            if existing == nil, let other = try await store.application(named: app.name), other.repository != repository.id {
                work.problems.append("\(app.configFile): application name \(app.name) is already used by repository "
                                     + "\(other.repository) (\(other.configFile))")
                continue
            }
            if manualTarget != nil && app.name == manualTarget { foundManualTarget = true }

            var record = existing ?? Application(name: app.name, repository: repository.id, path: app.path,
                                                 configFile: app.configFile, kind: app.kindName)
            record.path = app.path
            record.configFile = app.configFile
            if !app.kindName.isEmpty { record.kind = app.kindName }
            if app.config != nil { record.platform = app.platform }
            record.configError = app.problem
            if let config = app.config { record.labels = config.labels }
            record.configWarnings = app.config?.warnings.map { $0.text(file: app.configFile) } ?? []

            guard let config = app.config else {
                if let problem = app.problem {
                    work.problems.append(app.name == manualTarget ? "cannot sync \(app.name): \(problem)" : problem)
                    // Told once, when the config breaks (or breaks differently), not on every later push.
                    if existing?.configError != problem {
                        work.fail(app.name, repository: repository.id, reason: problem, labels: existing?.labels ?? [:])
                    }
                }
                work.upsert(record, existing: existing)
                continue
            }

            let touched: Bool
            if let manualTarget {
                touched = app.name == manualTarget
            } else {
                touched = try await isTouched(app, config: config, existing: existing, commit: work.commit,
                                              mirror: mirror, work: &work)
            }
            if !touched, let last = existing?.lastTriggeredCommit, !last.isEmpty {
                work.settling.lastTriggered[app.name] = last
            }
            if touched {
                do {
                    let rollbackFrom = try await work.rollbackByGit(of: existing, mirror: mirror)
                    let detail = try await deployment(for: app, config: config, request: request, existing: existing,
                                                      rollbackFrom: rollbackFrom, work: work, mirror: mirror)
                    work.deployments.append(detail)
                    record.lastTriggeredCommit = work.commit
                    work.settling.lastTriggered[app.name] = work.commit
                } catch let refused as StrategyDecision.Refused {
                    work.problems.append("\(app.name): \(refused.reason)")
                    work.fail(app.name, repository: repository.id, reason: refused.reason, labels: config.labels)
                } catch let unplannable as Unplannable {
                    // A stage no function runs, or something in the app's own tree that git refuses to write out (a
                    // nested `.git`, a path this file system cannot hold), fails again on every retry: it is this
                    // app's config error, and the other apps of the commit deploy.
                    record.configError = unplannable.description
                    work.problems.append(unplannable.description)
                    work.fail(app.name, repository: repository.id, reason: unplannable.description, labels: config.labels)
                }
            }
            work.upsert(record, existing: existing)
        }
    }

    /// What the plan of one trigger collects while it walks the apps.
    struct Work {
        var commit: String
        var info: Mirror.CommitInfo
        var problems: [String]
        var applications: [Application] = []
        var deployments: [DeploymentDetail] = []
        var failures: [TriggerFailure] = []
        /// Set when the delivery named a commit that is not the head any more.
        var notHead: String?
        /// `git diff` from each last triggered commit, computed once per trigger.
        var changedSince: [String: [String]?] = [:]
        /// Whether the planned commit is older than each last triggered commit, asked once per trigger.
        var olderThan: [String: Bool] = [:]
        /// What the last committed plan of the repository settled (not for a manual sync).
        var settled: SettledApps.Snapshot?
        /// What this plan settles, once committed.
        var settling: SettledApps.Snapshot

        /// The app's last triggered commit when the head moved back to one of its ancestors (a force-push or a
        /// revert of the branch to an older commit): the deployment is then a rollback by Git.
        mutating func rollbackByGit(of existing: Application?, mirror: Mirror) async throws -> String? {
            guard let last = existing?.lastTriggeredCommit, !last.isEmpty, last != commit else { return nil }
            if olderThan[last] == nil { olderThan[last] = try await mirror.isAncestor(commit, of: last) == true }
            return olderThan[last] == true ? last : nil
        }

        init(commit: String, info: Mirror.CommitInfo, problems: [String]) {
            self.commit = commit; self.info = info; self.problems = problems
            settling = SettledApps.Snapshot(commit: commit)
        }

        /// Records an application for the upsert only when something about it changed.
        mutating func fail(_ application: String, repository: String, reason: String, labels: [String: String]) {
            failures.append(TriggerFailure(application: application, repository: repository, commit: commit,
                                           commitMessage: info.message, author: info.author, reason: reason, labels: labels))
        }

        mutating func upsert(_ record: Application, existing: Application?) {
            var record = record
            if var old = existing {
                old.updatedAt = record.updatedAt
                if old == record { return }
            }
            record.updatedAt = Date()
            applications.append(record)
        }

        func note(discoveredAny: Bool, manual: Bool) -> String {
            var parts: [String] = []
            if let notHead { parts.append(notHead) }
            if deployments.isEmpty {
                if !discoveredAny {
                    parts.append("no application config found at \(short(commit))")
                } else if !manual {
                    parts.append("no application touched by \(short(commit))")
                }
            }
            parts.append(contentsOf: problems)
            return parts.joined(separator: "; ")
        }
    }

    /// A config file that cannot be read has no spec.name to go by: when the store knows an application at
    /// that file, the error belongs to that application rather than to a new one named after the directory.
    private func keepingKnownNames(_ apps: [DiscoveredApp], stored: [String: Application]) -> [DiscoveredApp] {
        var nameOfFile: [String: String] = [:]
        for app in stored.values where nameOfFile[app.configFile] == nil { nameOfFile[app.configFile] = app.name }
        let usableNames = Set(apps.filter { $0.config != nil }.map(\.name))
        return apps.map { app in
            var app = app
            if app.config == nil, let known = nameOfFile[app.configFile], !usableNames.contains(known) { app.name = known }
            return app
        }
    }

    /// Webhook and reconcile triggers: the files changed since the app's last triggered commit decide.
    private func isTouched(_ app: DiscoveredApp, config: AppConfig, existing: Application?, commit: String,
                           mirror: Mirror, work: inout Work) async throws -> Bool {
        if config.onCommit.disabled { return false }
        guard let stored = existing?.lastTriggeredCommit, !stored.isEmpty else { return true }
        // Untouched up to the last committed plan (or deployed there): only what changed since then can touch it.
        var last = stored
        if let settled = work.settled, settled.lastTriggered[app.name] == stored { last = settled.commit }
        if last == commit { return false }
        if work.changedSince[last] == nil {
            do {
                work.changedSince[last] = .some(try await mirror.changedFiles(from: last, to: commit))
            } catch {
                // The last triggered commit is gone (history rewritten and pruned): treat everything as changed.
                logger.warning("cannot diff from the last triggered commit; treating the app as touched",
                               metadata: ["application": "\(app.name)", "error": "\(error)"])
                work.changedSince[last] = .some(nil)
            }
        }
        guard let changed = work.changedSince[last] ?? nil else { return true }
        return TouchRule(directory: app.path, onCommit: config.onCommit).isTouched(by: changed)
    }

    private func deployment(for app: DiscoveredApp, config: AppConfig, request: NewTrigger, existing: Application?,
                            rollbackFrom: String?, work: Work, mirror: Mirror) async throws -> DeploymentDetail {
        let running = existing?.runningCommit
        if let missing = functions?.stageWithoutFunction(in: config) {
            throw Unplannable(description: missing.text(file: app.configFile))
        }
        let id = UUID().uuidString.lowercased()
        // Sources first: the platform's function compares the running commit's files with the target's.
        do {
            try await writeSources(deploymentID: id, appPath: app.path, commit: work.commit, running: running, mirror: mirror)
        } catch let error as GitError {
            removeSources(of: id)
            throw Unplannable(description: "\(app.configFile): cannot export \(app.path.isEmpty ? "the repository" : app.path) "
                                      + "at \(short(work.commit)): \(error.stderrSummary)")
        } catch {
            removeSources(of: id)
            throw error
        }
        let dirs = Planner.sourcesDirectory(dataDir: dataDir, deploymentID: id)
        do {
            // Both copies: a rollback applies the running commit's files, which must not hold placeholders either.
            try secrets.apply(directory: dirs.target, application: app.name)
            if FileManager.default.fileExists(atPath: dirs.running) {
                try secrets.apply(directory: dirs.running, application: app.name)
            }
        } catch {
            removeSources(of: id)
            throw Unplannable(description: "\(app.configFile): \(error)")
        }
        let decision: StrategyDecision
        do {
            decision = try await StrategyDecision.decide(config: config, forced: request.strategy,
                                                         forcedBy: request.kind == .manual ? "a manual sync" : "the trigger",
                                                         commitMessage: work.info.message,
                                                         useCommitMatcher: request.kind != .manual,
                                                         firstDeployment: running == nil,
                                                         platformDiff: {
                guard let functions, let running else { return nil }
                let exists = FileManager.default.fileExists(atPath: dirs.running)
                return await functions.determineStrategy(.init(
                    kind: config.kind, deploymentID: id, application: app.name, commit: work.commit, runningCommit: running,
                    trigger: .init(kind: request.kind.rawValue, commitMessage: work.info.message, author: work.info.author),
                    labels: config.labels, sources: .init(target: dirs.target, running: exists ? dirs.running : nil),
                    dataDir: dataDir), logger: logger)
            })
        } catch {
            removeSources(of: id)
            throw error
        }
        var stages = StagePlan.stages(deploymentID: id, config: config, strategy: decision.strategy)
        if decision.strategy == .pipeline {
            await skipStages(&stages, config: config, appPath: app.path, running: running, work: work, mirror: mirror)
        }
        let deployment = Deployment(
            id: id, application: app.name, repository: mirror.repository.id, appPath: app.path,
            platform: app.platform, commit: work.commit, runningCommit: running, triggerKind: request.kind,
            commitMessage: work.info.message, author: work.info.author, strategy: decision.strategy,
            summary: Self.summary(decision.summary, rollbackFrom: rollbackFrom, to: work.commit), status: .planned, autoRollback: config.autoRollback,
            timeoutSeconds: config.timeoutSeconds, commitTime: work.info.time,
            rollbackTimeoutSeconds: config.rollbackTimeoutSeconds)
        return DeploymentDetail(deployment: deployment, stages: stages)
    }

    /// `skipOn` of the pipeline's stages, decided now: a skipped stage is planned as SKIPPED, with its reason.
    private func skipStages(_ stages: inout [Stage], config: AppConfig, appPath: String, running: String?, work: Work,
                            mirror: Mirror) async {
        // Since the running commit, as PipeCD compares, and only when a stage asks: one diff per deployment at most.
        // With no running commit, or one that is gone, nothing is skipped by path.
        var diffed = false
        var changed: [String]?
        for (i, stage) in config.stages.enumerated() where SkipOn.stages.contains(stage.name) && i < stages.count {
            guard let skip = stage.skipOn else { continue }
            if skip.needsChangedFiles, !diffed, let running {
                diffed = true
                changed = try? await mirror.changedFiles(from: running, to: work.commit)
            }
            if let reason = skip.reason(commitMessage: work.info.message, changedFiles: changed, appDirectory: appPath) {
                stages[i].status = .skipped
                stages[i].message = reason
            }
        }
    }

    private func removeSources(of deploymentID: String) {
        try? FileManager.default.removeItem(atPath: DataLayout.deploymentDir(dataDir, deploymentID: deploymentID))
    }

    /// A rollback by Git says so first; the strategy's reason follows, since the app's normal rules still apply.
    static func summary(_ strategy: String, rollbackFrom: String?, to commit: String) -> String {
        guard let rollbackFrom else { return strategy }
        return "Rollback by Git: head moved from \(short(rollbackFrom)) to \(short(commit)). \(strategy)"
    }

    /// The app's directory at the deployment's commit (and at the running commit), written before the
    /// deployment is committed so a committed deployment always has its files.
    private func writeSources(deploymentID: String, appPath: String, commit: String, running: String?,
                              mirror: Mirror) async throws {
        let dirs = Planner.sourcesDirectory(dataDir: dataDir, deploymentID: deploymentID)
        try await mirror.materialize(appPath, at: commit, into: dirs.target)
        try await mirror.materializeShared(at: commit, into: DataLayout.sharedSources(dataDir, deploymentID: deploymentID))
        guard let running else { return }
        if let full = try await mirror.resolveCommit(running), try await mirror.hasDirectory(appPath, at: full) {
            try await mirror.materialize(appPath, at: full, into: dirs.running)
        } else {
            // The app did not live there at that commit, or the commit is gone: an empty directory says so.
            logger.warning("app directory missing at the running commit; running sources left empty",
                           metadata: ["deployment": "\(deploymentID)", "runningCommit": "\(running)", "path": "\(appPath)"])
            try FileManager.default.createDirectory(atPath: dirs.running, withIntermediateDirectories: true)
        }
    }
}

func short(_ commit: String) -> String { String(commit.prefix(7)) }

/// The app cannot be deployed at this commit (a stage no function runs, files git cannot write out): a property of
/// the commit, not a passing fault.
struct Unplannable: Error, CustomStringConvertible {
    let description: String
}
