import Foundation
import GantryAPI
import Logging
import Store

/// The preview was refused before anything was planned: an unknown repository or ref.
public struct PreviewRefused: Error, CustomStringConvertible { public let description: String }

extension TriggerPlanner {
    /// What a branch or pull request would deploy if it were merged, without deploying anything: the applications
    /// its changes touch (compared from where it left the base branch), quick sync or pipeline and why, and the
    /// config problems at its head, each with its line. Nothing is written to the store; sources go to a scratch
    /// folder. `synced`: the mirror was fetched by the caller just now.
    func preview(repository: RepositoryConfig, mirror: Mirror, head: String, base: String?,
                 synced: Bool = false) async throws -> PlanPreviewView {
        if !synced { try await mirror.sync() }
        let headCommit = try await mirror.previewCommit(head, slot: "head")
        let baseCommit: String
        if let base { baseCommit = try await mirror.previewCommit(base, slot: "base") } else { baseCommit = try await mirror.head() }
        let from = try await mirror.mergeBase(baseCommit, headCommit) ?? baseCommit
        let changed = try await mirror.changedFiles(from: from, to: headCommit)
        let info = try await mirror.commitInfo(headCommit)
        // A list of its own: the shared one follows the last planned commit of the branch.
        let discovery = try await AppDiscovery.discover(mirror: mirror, commit: headCommit, repositoryID: repository.id,
                                                        platforms: platforms, kinds: functions?.appKinds ?? .none,
                                                        cache: configCache, index: ConfigFileIndex())
        var preview = PlanPreviewView(repository: repository.id, base: baseCommit, head: headCommit, mergeBase: from,
                                  applications: [], problems: discovery.problems)
        let scratch = dataDir + "/previews/" + UUID().uuidString.lowercased()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for app in discovery.apps {
            let touchedConfig = changed.contains(app.configFile)
            guard let config = app.config else {
                if touchedConfig {
                    preview.applications.append(PlanPreviewView.App(
                        name: app.name, configFile: app.configFile, kind: app.kindName, strategy: nil, summary: "",
                        stages: [], configError: app.problem, configWarnings: []))
                }
                continue
            }
            guard touchedConfig || TouchRule(directory: app.path, onCommit: config.onCommit).isTouched(by: changed) else {
                continue
            }
            var entry = PlanPreviewView.App(name: app.name, configFile: app.configFile, kind: config.kind.name, strategy: nil,
                                        summary: "", stages: [], configError: nil,
                                        configWarnings: config.warnings.map { $0.text(file: app.configFile) })
            if let missing = functions?.stageWithoutFunction(in: config) {
                entry.configError = missing.text(file: app.configFile)
                preview.applications.append(entry)
                continue
            }
            let id = "preview-" + UUID().uuidString.lowercased()
            let dirs = (target: "\(scratch)/\(id)/target", running: "\(scratch)/\(id)/running")
            try await mirror.materialize(app.path, at: headCommit, into: dirs.target)
            let deployedBefore = try await mirror.hasDirectory(app.path, at: from)
            if deployedBefore { try await mirror.materialize(app.path, at: from, into: dirs.running) }
            let decision = try await StrategyDecision.decide(
                config: config, forced: .auto, commitMessage: info.message, useCommitMatcher: true,
                firstDeployment: !deployedBefore, platformDiff: {
                    guard let functions, deployedBefore else { return nil }
                    return await functions.determineStrategy(.init(
                        kind: config.kind, deploymentID: id, application: app.name, commit: headCommit, runningCommit: from,
                        trigger: .init(kind: "preview", commitMessage: info.message, author: info.author),
                        labels: config.labels, sources: .init(target: dirs.target, running: dirs.running),
                        dataDir: dataDir), logger: logger)
                })
            entry.strategy = decision.strategy.rawValue
            entry.summary = decision.summary
            entry.stages = StagePlan.stages(deploymentID: id, config: config, strategy: decision.strategy)
                .filter { !$0.rollback }.map(\.name)
            preview.applications.append(entry)
        }
        return preview
    }
}

extension Planner {
    /// What `head` (a branch, `refs/pull/N/head`, a commit id) would deploy if merged into `base` (default: the
    /// configured branch), computed like a plan but committing nothing. One at a time with the planner's passes.
    public func preview(repository id: String, head: String, base: String?) async throws -> PlanPreviewView {
        guard let repository = repositories[id] else { throw PreviewRefused(description: "no repository \(id) in the server config") }
        let mirror = Mirror(repository: repository, dataDir: dataDir, git: git)
        return try await gate.serialized {
            try await triggerPlanner.preview(repository: repository, mirror: mirror, head: head, base: base)
        }
    }
}

extension TriggerPlanner {
    /// A pull request trigger's outcome: no deployment, its preview as the comment the outbox posts. A preview
    /// that cannot be made (the pull request's head cannot be fetched or read) ends the trigger with the reason:
    /// it must not hold back the repository's pushes, and the pull request's next push previews anew.
    func previewOutcome(_ trigger: Trigger, _ pullRequest: PullRequestRef, repository: RepositoryConfig,
                        mirror: Mirror) async -> PlanOutcome {
        do {
            // The base is the watched branch (ingress refuses others), which the mirror has just fetched.
            let preview = try await preview(repository: repository, mirror: mirror, head: pullRequest.headRef, base: nil,
                                            synced: true)
            let comment = PreviewComment(at: Date(), repository: repository.id, pullRequest: pullRequest.number,
                                         head: preview.head, markdown: preview.markdown)
            return PlanOutcome(triggerID: trigger.id, applications: [], deployments: [],
                               note: "previewed pull request #\(pullRequest.number) at \(short(preview.head)): "
                                   + "\(preview.applications.count) application(s) touched",
                               previewComment: comment)
        } catch {
            logger.warning("pull request preview failed", metadata: [
                "repository": "\(repository.id)", "pullRequest": "\(pullRequest.number)", "error": "\(error)"])
            return PlanOutcome(triggerID: trigger.id, applications: [], deployments: [],
                               note: "preview of pull request #\(pullRequest.number) failed: \(error)")
        }
    }
}
