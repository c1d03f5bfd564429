import Foundation
import FunctionKit

/// The planning invocation for KubernetesApps: PipeCD's platform diff rule, the last of its strategy rules. The
/// manifests of the running commit are compared with the target's (a kustomization built with `kubectl kustomize`,
/// as the stages build it); manifests that cannot be read send the change through the pipeline. With no Kubernetes
/// object in either commit there is nothing to compare: the result is `skipped` and the planner decides.
enum StrategyDetermination {
    static func run(_ event: FunctionEvent, environment: [String: String]) -> FunctionResult {
        guard let running = event.sources.running else {
            return FunctionResult(status: .skipped, message: "no running commit to compare with")
        }
        let verdict: StrategyVerdict
        do {
            guard let decided = try compare(application: event.deployment.application, target: event.sources.target,
                                            running: running, kubectl: environment["GANTRY_KUBECTL"] ?? "kubectl") else {
                return FunctionResult(status: .skipped, message: "no Kubernetes manifests at either commit")
            }
            verdict = decided
        } catch {
            verdict = StrategyVerdict(pipeline: true, summary: "Sync progressively because the manifests could not be "
                                      + "compared (\(error))")
        }
        FunctionIO.output(verdict.output)
        return FunctionResult(status: .succeeded, message: verdict.summary)
    }

    static func compare(application: String, target: String, running: String, kubectl: String) throws -> StrategyVerdict? {
        let kustomize = { (directory: String) throws -> String in
            let result = try Kubectl.spawn(kubectl, ["kustomize", directory], stdin: nil)
            guard result.status == 0 else {
                throw KubectlError(what: "building the kustomization", stderr: result.err, status: result.status)
            }
            return result.out
        }
        let spec = try KubernetesAppSpec.read(directory: target, application: application)
        let runningSpec = (try? KubernetesAppSpec.read(directory: running, application: application)) ?? spec
        let new = try ManifestLoader.load(directory: target, spec: spec, kustomize: kustomize)
        let old = try ManifestLoader.load(directory: running, spec: runningSpec, kustomize: kustomize)
        if old.isEmpty && new.isEmpty { return nil }
        return SyncStrategyRule.decide(running: old, target: new, spec: spec)
    }
}
