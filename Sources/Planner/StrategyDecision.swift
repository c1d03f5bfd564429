import Foundation
import FunctionKit
import Store

/// Quick sync or pipeline, and the sentence that tells the user why.
struct StrategyDecision: Sendable, Equatable {
    var strategy: SyncStrategy
    var summary: String

    struct Refused: Error, Sendable, Equatable { var reason: String }

    /// PipeCD's order: forced strategy, no pipeline, alwaysUsePipeline, commit-message matchers, first
    /// deployment, then the platform's function (`platformDiff`, asked only when reached; nil: the pipeline runs).
    /// - Parameters:
    ///   - forced: the trigger's strategy; `.auto` lets the rules decide.
    ///   - useCommitMatcher: false for manual syncs, whose intent is not in the commit message (as in PipeCD).
    ///   - forcedBy: who forced it, for the summary ("a manual sync").
    static func decide(config: AppConfig, forced: SyncStrategy, forcedBy: String = "the trigger", commitMessage: String,
                       useCommitMatcher: Bool, firstDeployment: Bool,
                       platformDiff: () async -> StrategyVerdict? = { nil }) async throws -> StrategyDecision {
        // An app without a platform has no *_SYNC stage: whatever the rules say, its pipeline is the deployment.
        if config.kind.syncStage == nil {
            let requested = forced == .quickSync ? " (quick sync was requested)" : ""
            guard config.hasPipeline else {
                return StrategyDecision(strategy: .pipeline, summary: "Nothing to run: the application has no platform, "
                                        + "so no quick sync stage, and no pipeline" + requested)
            }
            return StrategyDecision(strategy: .pipeline, summary: "Run the specified pipeline: the application has no "
                                    + "platform, so there is no quick sync stage" + requested)
        }

        switch forced {
        case .quickSync:
            return StrategyDecision(strategy: .quickSync, summary: "Quick sync (forced by \(forcedBy))")
        case .pipeline:
            guard config.hasPipeline else {
                throw Refused(reason: "cannot sync with a pipeline: the config has no spec.pipeline.stages")
            }
            return StrategyDecision(strategy: .pipeline, summary: "Sync with the specified pipeline (forced by \(forcedBy))")
        case .auto:
            break
        }
        guard config.hasPipeline else {
            return StrategyDecision(strategy: .quickSync, summary: "Quick sync because no pipeline was configured")
        }
        if config.alwaysUsePipeline {
            return StrategyDecision(strategy: .pipeline, summary: "Sync with the specified pipeline (alwaysUsePipeline is set)")
        }
        if useCommitMatcher {
            if let pattern = config.commitMatcher.quickSync, matches(pattern, commitMessage) {
                return StrategyDecision(strategy: .quickSync, summary: "Quick sync (commit message matched \"\(pattern)\")")
            }
            if let pattern = config.commitMatcher.pipeline, matches(pattern, commitMessage) {
                return StrategyDecision(strategy: .pipeline,
                                        summary: "Sync with the specified pipeline (commit message matched \"\(pattern)\")")
            }
        }
        if firstDeployment {
            return StrategyDecision(strategy: .quickSync, summary: "Quick sync because this is the first deployment")
        }
        if let diff = await platformDiff() {
            return StrategyDecision(strategy: diff.pipeline ? .pipeline : .quickSync, summary: diff.summary)
        }
        return StrategyDecision(strategy: .pipeline, summary: "Sync with the specified pipeline")
    }

    private static func matches(_ pattern: String, _ text: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// The stage rows of a planned deployment: the forward stages in order, then the hidden rollback stages
/// the engine runs only when the deployment rolls back.
enum StagePlan {
    static func stages(deploymentID: String, config: AppConfig, strategy: SyncStrategy) -> [Stage] {
        var out: [Stage] = []
        if strategy == .quickSync, let sync = config.kind.syncStage {
            out.append(Stage(deploymentID: deploymentID, index: 0, name: sync))
        } else {
            for (i, s) in config.stages.enumerated() {
                out.append(Stage(deploymentID: deploymentID, index: i, name: s.name, withJSON: s.with.encoded(),
                                 timeoutSeconds: s.timeoutSeconds, retry: s.retry))
            }
        }
        let forward = out
        if config.kind.syncStage != nil {
            out.append(Stage(deploymentID: deploymentID, index: out.count, name: "ROLLBACK", rollback: true))
        }
        for stage in forward where stage.name == "SCRIPT_RUN" {
            let with = (try? JSONValue.decode(stage.withJSON)) ?? .object([:])
            guard let onRollback = with["onRollback"], !onRollback.isNull else { continue }
            out.append(Stage(deploymentID: deploymentID, index: out.count, name: "SCRIPT_RUN_ROLLBACK",
                             withJSON: stage.withJSON, rollback: true, rollbackOf: stage.index))
        }
        return out
    }
}
