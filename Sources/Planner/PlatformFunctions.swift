import Foundation
import FunctionHost
import FunctionKit
import Logging
import Store
import Synchronization

/// The functions as the planner sees them: which app kinds they declare, and the planning invocation that asks a
/// platform's function whether a change needs the pipeline (PipeCD's platform diff rule, which PipeCD v1's plugins
/// answer as DetermineStrategy). The planner itself reads no manifest of any platform.
public final class PlatformFunctions: Sendable {
    let catalog: FunctionCatalog
    let host: FunctionHost
    /// A planning invocation holds up the plan of its push: it gets at most this long, or the function's own timeout.
    static let planningTimeout = 60.0
    private let started = Atomic<Int>(0)

    /// Planning invocations started so far: what planning a push costs beyond git, and only for apps it touched.
    public var planningInvocations: Int { started.load(ordering: .relaxed) }

    public init(catalog: FunctionCatalog, host: FunctionHost) {
        self.catalog = catalog; self.host = host
    }

    var appKinds: AppKinds { AppKinds(functions: catalog.registry.functions) }

    /// The first pipeline stage no function runs for the app's kind, found when the commit is planned rather than
    /// when the deployment reaches it; the message names the stages that exist.
    func stageWithoutFunction(in config: AppConfig) -> ConfigProblem? {
        let platform = config.kind.platformKind
        for (i, stage) in config.stages.enumerated()
        where catalog.function(forStage: stage.name, platformKind: platform) == nil {
            let offered = Set(catalog.registry.functions.filter { $0.platform == nil || $0.platform == platform }
                .flatMap(\.stages)).subtracting(["ROLLBACK", StrategyVerdict.stage]).sorted()
            return ConfigProblem(line: stage.line, message: "spec.pipeline.stages[\(i)]: no function runs stage \(stage.name) "
                                 + "for \(platform.map { "a \(config.kind.name) (platform \($0))" } ?? "an App without platform") "
                                 + "(the stages that exist: \(offered.joined(separator: ", ")))")
        }
        return nil
    }

    /// What the planning invocation needs from the deployment being planned.
    struct Question: Sendable {
        var kind: AppKind
        var deploymentID: String
        var application: String
        var commit: String
        var runningCommit: String
        var trigger: FunctionEvent.TriggerInfo
        var labels: [String: String]
        var sources: FunctionEvent.Sources
        var dataDir: String
    }

    /// The function's verdict; nil when the kind's function does not plan, or it had nothing to compare. A function
    /// that fails, or answers nothing usable, sends the change through the pipeline, as PipeCD does when its diff fails.
    func determineStrategy(_ q: Question, logger: Logger) async -> StrategyVerdict? {
        guard q.kind.determinesStrategy, let name = q.kind.function else { return nil }
        guard let function = catalog.registry.functions.first(where: { $0.name == name }) else {
            return StrategyVerdict(pipeline: true, summary: "Sync progressively because the \(name) function, which "
                                   + "decides for \(q.kind.name), is gone")
        }
        started.add(1, ordering: .relaxed)
        let startedAt = Date()
        let deadline = startedAt.addingTimeInterval(min(function.timeout, Self.planningTimeout))
        let event = FunctionEvent(
            invocation: .init(id: "\(q.deploymentID)-plan", key: "\(q.deploymentID)-plan", attempt: 1,
                              deadline: RFC3339.format(deadline)),
            deployment: .init(id: q.deploymentID, application: q.application, commit: q.commit,
                              runningCommit: q.runningCommit, trigger: q.trigger, labels: q.labels),
            stage: .init(index: 0, name: StrategyVerdict.stage, with: .object([:]), rollback: false),
            checkpoint: nil, sources: q.sources, function: .init(name: function.name, version: function.version))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let directory = DataLayout.planningInvocationDir(q.dataDir, deploymentID: q.deploymentID)
        FunctionHost.removeInvocationDirectory(directory)
        defer {
            FunctionHost.removeInvocationDirectory(directory)
            // The deployment's folder of invocations, now empty, unless the plan is never committed: then nothing would.
            rmdir(DataLayout.invocationsDir(q.dataDir, deploymentID: q.deploymentID))
        }
        let request: InvocationRequest
        do {
            request = InvocationRequest(
                id: event.invocation.id, function: function, event: try encoder.encode(event), directory: directory,
                environment: ["GANTRY_DEPLOYMENT_ID": q.deploymentID, "GANTRY_APPLICATION": q.application,
                              "GANTRY_STAGE": StrategyVerdict.stage],
                deadline: deadline, readOnlyPaths: [q.sources.target] + (q.sources.running.map { [$0] } ?? []))
        } catch {
            return StrategyVerdict(pipeline: true, summary: "Sync progressively because the planning event could not be "
                                   + "written (\(error))")
        }
        let answer = Mutex<StrategyVerdict?>(nil)
        let log = Mutex<[String]>([])
        let outcome = await host.invoke(request, control: InvocationControl(), onStarted: { _, _ in },
                                        onMessage: { message in
            if case .output(let values) = message, let verdict = StrategyVerdict(output: values) {
                answer.withLock { $0 = verdict }
            }
        }, onLog: { lines in log.withLock { $0 += lines } })
        let seconds = Date().timeIntervalSince(startedAt)
        let metadata: Logger.Metadata = ["deployment": "\(q.deploymentID)", "function": "\(function.name)",
                                         "seconds": "\(String(format: "%.3f", seconds))"]
        switch outcome.result.status {
        case .succeeded:
            if let verdict = answer.withLock({ $0 }) {
                logger.debug("planning invocation answered", metadata: metadata)
                return verdict
            }
            logger.warning("planning invocation gave no verdict", metadata: metadata)
            return StrategyVerdict(pipeline: true, summary: "Sync progressively because the \(function.name) function "
                                   + "gave no verdict")
        case .skipped:
            return nil
        default:
            let why = outcome.result.message ?? outcome.errorType ?? "\(outcome.result.status)"
            logger.warning("planning invocation failed", metadata: metadata.merging(
                ["error": "\(why)", "log": "\(log.withLock { $0.suffix(20).joined(separator: "\n") })"]) { a, _ in a })
            return StrategyVerdict(pipeline: true, summary: "Sync progressively because the \(function.name) function "
                                   + "could not compare the commits (\(why))")
        }
    }
}
