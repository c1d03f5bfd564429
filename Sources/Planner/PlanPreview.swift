import Foundation
import Logging
import Store

/// What a branch or pull request would deploy if it were merged, without deploying anything: the applications its
/// changes touch (compared from where it left the base branch), quick sync or pipeline and why, and the config
/// problems at its head, each with its line. Nothing is written to the store; sources go to a scratch folder.
public struct PlanPreview: Sendable, Equatable {
    public struct App: Sendable, Equatable {
        public var name: String
        public var configFile: String
        public var kind: String
        /// nil when the app cannot be planned (see `configError`).
        public var strategy: SyncStrategy?
        public var summary: String
        public var stages: [String]
        public var configError: String?
        public var configWarnings: [String]
    }
    public var repository: String
    public var base: String
    public var head: String
    /// Where head left base: what the changes are counted from.
    public var mergeBase: String
    public var applications: [App]
    /// Problems at head that belong to no application (a duplicate name, a config git cannot read).
    public var problems: [String]
}

/// The preview was refused before anything was planned: an unknown repository or ref.
public struct PreviewRefused: Error, CustomStringConvertible { public let description: String }

extension TriggerPlanner {
    func preview(repository: RepositoryConfig, mirror: Mirror, head: String, base: String?) async throws -> PlanPreview {
        try await mirror.sync()
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
        var preview = PlanPreview(repository: repository.id, base: baseCommit, head: headCommit, mergeBase: from,
                                  applications: [], problems: discovery.problems)
        let scratch = dataDir + "/previews/" + UUID().uuidString.lowercased()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for app in discovery.apps {
            let touchedConfig = changed.contains(app.configFile)
            guard let config = app.config else {
                if touchedConfig {
                    preview.applications.append(PlanPreview.App(
                        name: app.name, configFile: app.configFile, kind: app.kindName, strategy: nil, summary: "",
                        stages: [], configError: app.problem, configWarnings: []))
                }
                continue
            }
            guard touchedConfig || TouchRule(directory: app.path, onCommit: config.onCommit).isTouched(by: changed) else {
                continue
            }
            var entry = PlanPreview.App(name: app.name, configFile: app.configFile, kind: config.kind.name, strategy: nil,
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
            entry.strategy = decision.strategy
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
    public func preview(repository id: String, head: String, base: String?) async throws -> PlanPreview {
        guard let repository = repositories[id] else { throw PreviewRefused(description: "no repository \(id) in the server config") }
        let mirror = Mirror(repository: repository, dataDir: dataDir, git: git)
        return try await gate.serialized {
            try await triggerPlanner.preview(repository: repository, mirror: mirror, head: head, base: base)
        }
    }
}
