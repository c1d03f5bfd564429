import Foundation
import KubernetesManifests

/// The platform diff rule for KubernetesApps (PipeCD's order puts it last): the manifests of the running commit
/// against the target's, both already exported for the deployment. A kustomization is built with `kubectl
/// kustomize`, as the function builds it; manifests that cannot be read send the change through the pipeline.
/// With no Kubernetes object in either commit the rule has nothing to compare and says nothing (nil).
enum KubernetesDiffRule {
    static func verdict(application: String, target: String, running: String) -> SyncStrategyRule.Verdict? {
        do {
            let spec = try KubernetesAppSpec.read(directory: target, application: application)
            let runningSpec = (try? KubernetesAppSpec.read(directory: running, application: application)) ?? spec
            let new = try ManifestLoader.load(directory: target, spec: spec, kustomize: kustomize)
            let old = try ManifestLoader.load(directory: running, spec: runningSpec, kustomize: kustomize)
            if old.isEmpty && new.isEmpty { return nil }
            return SyncStrategyRule.decide(running: old, target: new, spec: spec)
        } catch {
            return SyncStrategyRule.Verdict(pipeline: true, summary: "Sync progressively because the manifests could not be "
                                            + "compared (\(error))")
        }
    }

    struct KustomizeFailed: Error, CustomStringConvertible { let description: String }

    static func kustomize(_ directory: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["kubectl", "kustomize", directory]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        // kustomize output fits in memory; stderr is read after stdout ends, so neither pipe blocks the child for long.
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw KustomizeFailed(description: "kubectl kustomize: " + String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }
}
