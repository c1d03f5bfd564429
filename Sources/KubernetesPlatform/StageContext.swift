import Foundation
import FunctionKit

/// Everything a Kubernetes stage works with: the event, the app's config, kubectl on the app's platform.
struct StageContext {
    let event: FunctionEvent
    let spec: KubernetesAppSpec
    let kubectl: Kubectl
    /// Builds the target commit's objects (labels carry the deployment's commit).
    let builder: VariantBuilder

    static func log(_ line: String) { FunctionIO.log(line) }

    /// Reads the app's config from `directory` (target commit; running commit for ROLLBACK) and checks the platform.
    init(event: FunctionEvent, directory: String, environment: [String: String]) throws {
        self.event = event
        spec = try KubernetesAppSpec.read(directory: directory, application: event.deployment.application)
        kubectl = try Kubectl(settings: KubernetesSettings(platform: event.platform, environment: environment),
                              log: { FunctionIO.log($0) })
        builder = VariantBuilder(spec: spec, application: event.deployment.application, commit: event.deployment.commit)
    }

    /// The manifests of the app's directory at the target commit, or at the running commit.
    func manifests(running: Bool = false) throws -> [Manifest] {
        let dir: String
        if running {
            guard let r = event.sources.running, event.deployment.runningCommit != nil else {
                throw StageError(type: "NoRunningCommit", description: "the app has no running commit (this is its first deployment)")
            }
            dir = r
        } else {
            dir = event.sources.target
        }
        let spec = running ? ((try? KubernetesAppSpec.read(directory: dir, application: event.deployment.application)) ?? self.spec)
            : self.spec
        let loaded = try ManifestLoader.load(directory: dir, spec: spec) { try kubectl.kustomize($0) }
        guard !loaded.isEmpty else {
            throw StageError.invalidManifest("no Kubernetes manifests in the app's directory at \(running ? "the running" : "the target") commit"
                                             + (spec.manifests.isEmpty ? "" : " (spec.input.manifests)"))
        }
        return loaded
    }

    /// The Namespace to create first when spec.input.autoCreateNamespace is set (never pruned: no app label).
    var namespaceManifest: Manifest? {
        guard spec.autoCreateNamespace, let ns = spec.namespace else { return nil }
        return Manifest(object: ["apiVersion": .string("v1"), "kind": .string("Namespace"),
                                 "metadata": .object(["name": .string(ns),
                                                      "labels": .object([VariantBuilder.managedByKey: .string("gantry")])])])
    }

    /// The namespaces the app's objects live in (nil: the context's namespace), for label-selected deletes.
    func namespaces(of manifests: [Manifest]) -> [String?] {
        var out: [String?] = []
        for m in builder.placed(manifests) where !VariantBuilder.clusterScoped.contains(m.kind) {
            if !out.contains(m.namespace) { out.append(m.namespace) }
        }
        return out.isEmpty ? [spec.namespace] : out
    }

    /// Applies `objects` once per stage: the checkpoint lists them before kubectl runs and marks them applied
    /// after, so a re-invoked attempt that finds them applied does nothing, and one that does not applies the
    /// same names again (server-side apply updates, never duplicates). The list is also the stage's output, so
    /// later stages and ROLLBACK know what this stage created.
    func applyOnce(_ objects: [Manifest], what: String) throws {
        let keys = objects.map(\.key.description)
        if event.checkpoint?["applied"]?.bool == true,
           event.checkpoint?["resources"]?.array?.compactMap(\.string) == keys {
            Self.log("already applied by an earlier attempt of this stage: \(keys.joined(separator: ", "))")
            return
        }
        let listed = JSONValue.array(keys.map(JSONValue.string))
        FunctionIO.checkpoint(.object(["resources": listed, "applied": .bool(false)]))
        FunctionIO.output(["resources": keys.joined(separator: " ")])
        Self.log("\(what): applying \(keys.joined(separator: ", "))")
        try kubectl.apply((namespaceManifest.map { [$0] } ?? []) + objects, what: what)
        FunctionIO.checkpoint(.object(["resources": listed, "applied": .bool(true)]))
    }

    static let variantKinds = ["deployments.apps", "services", "configmaps", "secrets"]

    /// Deletes every object of the app labelled as one of `variants` (canary, baseline), wherever the manifests
    /// live: one kubectl call per namespace.
    func deleteVariants(_ variants: Variant..., manifests: [Manifest]) throws {
        let names = variants.map(\.rawValue).joined(separator: " and ")
        for ns in namespaces(of: manifests) {
            try kubectl.deleteLabelled(kinds: Self.variantKinds, selector: builder.selector(variants), namespace: ns,
                                       what: "deleting the \(names) objects of \(builder.applicationLabel)")
        }
    }

    /// Deletes the app's objects (labelled by Gantry) that `desired` no longer has, among the kinds either
    /// commit's manifests use.
    func prune(desired: [Manifest], running: [Manifest]) throws {
        let kinds = Set((desired + running).map { $0.group.isEmpty ? $0.kind.lowercased() : "\($0.kind.lowercased()).\($0.group)" })
            .union(["deployments.apps", "services", "configmaps", "secrets"]).sorted()
        let wanted = desired.map(\.key)
        for ns in namespaces(of: desired + running) {
            let live = try kubectl.list(kinds: kinds, selector: builder.selector([.primary]), namespace: ns, what: "listing the app's objects to prune")
            let stale = live.filter { obj in
                !wanted.contains { $0.group == obj.group && $0.kind == obj.kind && $0.name == obj.name
                    && ($0.namespace.isEmpty || $0.namespace == obj.namespace ?? "") }
            }
            guard !stale.isEmpty else { continue }
            Self.log("pruning \(stale.map(\.displayName).joined(separator: ", "))")
            try kubectl.delete(stale.map { (kind: $0.group.isEmpty ? $0.kind.lowercased() : "\($0.kind.lowercased()).\($0.group)", key: $0.key) },
                               what: "pruning objects no longer in the manifests")
        }
    }
}
