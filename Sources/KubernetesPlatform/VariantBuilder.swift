import Foundation
import FunctionKit

/// Turns the app's manifests into what a stage applies, as PipeCD does: the primary keeps the names, a canary or
/// baseline is a copy of the workloads (and of the ConfigMaps and Secrets they use) with a suffix. Every object
/// carries Gantry's labels; every workload's selector and pod labels carry the variant, so the variants' Deployments
/// never select each other's pods while a Service selecting the app's labels reaches all of them.
public struct VariantBuilder: Sendable {
    public let spec: KubernetesAppSpec
    public let application: String
    public let commit: String

    public static let managedByKey = "gantry.dev/managed-by"
    public static let applicationKey = "gantry.dev/application"
    public static let commitKey = "gantry.dev/commit-hash"

    public init(spec: KubernetesAppSpec, application: String, commit: String) {
        self.spec = spec; self.application = application; self.commit = commit
    }

    /// A valid label value for the application name (63 characters of [A-Za-z0-9._-], alphanumeric at both ends).
    public var applicationLabel: String {
        var v = String(application.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "-" }.prefix(63))
        while let c = v.last, !(c.isLetter || c.isNumber) { v.removeLast() }
        while let c = v.first, !(c.isLetter || c.isNumber) { v.removeFirst() }
        return v.isEmpty ? "app" : v
    }

    /// The selector of the app's objects of `variants` (all of them when empty).
    public func selector(_ variants: [Variant] = []) -> String {
        var s = "\(Self.managedByKey)=gantry,\(Self.applicationKey)=\(applicationLabel)"
        if !variants.isEmpty {
            s += ",\(spec.variantLabel.key) in (\(variants.map { spec.variantLabel.value($0) }.joined(separator: ",")))"
        }
        return s
    }

    func labels(_ variant: Variant) -> [String: String] {
        [Self.managedByKey: "gantry", Self.applicationKey: applicationLabel, Self.commitKey: commit,
         spec.variantLabel.key: spec.variantLabel.value(variant)]
    }

    /// The namespace of namespaced objects that name none: spec.input.namespace.
    public func placed(_ manifests: [Manifest]) -> [Manifest] {
        guard let ns = spec.namespace else { return manifests }
        return manifests.map { m in
            var m = m
            if m.namespace == nil && !Self.clusterScoped.contains(m.kind) { m.namespace = ns }
            return m
        }
    }

    static let clusterScoped: Set<String> = ["Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
        "CustomResourceDefinition", "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration", "APIService", "IngressClass", "RuntimeClass", "CSIDriver", "VolumeSnapshotClass"]

    /// The manifests as the primary variant: Gantry's labels everywhere, the variant in workload selectors.
    public func primary(_ manifests: [Manifest]) -> [Manifest] {
        let placed = placed(manifests)
        let workloads = Set(spec.workloads(in: placed).map(\.key))
        return placed.map { m in
            var m = m
            m.addLabels(labels(.primary))
            if workloads.contains(m.key) { markPods(&m, .primary) }
            return m
        }
    }

    /// A canary or baseline: each workload copied as `<name>-<suffix>` with `replicas` (a number, or "N%" of the
    /// primary's replicas, rounded up), its ConfigMaps and Secrets copied the same way, and with `createService`
    /// a copy of the app's Service selecting only this variant's pods.
    public func variant(_ variant: Variant, of manifests: [Manifest], suffix: String, replicas: JSONValue?,
                        createService: Bool) throws -> [Manifest] {
        let workloads = spec.workloads(in: manifests)
        guard !workloads.isEmpty else {
            throw StageError.invalidManifest("no workload to make a \(variant.rawValue) of: the manifests have no Deployment"
                                             + (spec.workloads.isEmpty ? "" : " named in spec.workloads"))
        }
        let configs = manifests.filter(\.isConfig)
        var renamed: [String: [String: String]] = ["ConfigMap": [:], "Secret": [:]]
        var out: [Manifest] = []
        for c in configs {
            var copy = c
            copy.name = "\(c.name)-\(suffix)"
            renamed[c.kind]?[c.name] = copy.name
            copy.addLabels(labels(variant))
            out.append(copy)
        }
        for w in workloads {
            var copy = w
            copy.name = "\(w.name)-\(suffix)"
            copy.addLabels(labels(variant))
            copy["spec.replicas"] = .number(Double(try Self.replicas(replicas, primary: w)))
            markPods(&copy, variant)
            renameConfigReferences(&copy, renamed)
            out.append(copy)
        }
        if createService {
            guard let service = service(in: manifests) else {
                throw StageError.invalidManifest("createService is set but the manifests have no Service"
                                                 + (spec.serviceName.map { " named \($0)" } ?? ""))
            }
            var copy = Manifest(object: ["apiVersion": .string(service.apiVersion), "kind": .string("Service"),
                                         "metadata": .object(["name": .string("\(service.name)-\(suffix)")])])
            copy.namespace = service.namespace
            copy.addLabels(service.labels.merging(labels(variant)) { _, new in new })
            var serviceSpec = service.object["spec"]?.object ?? [:]
            // A copy cannot keep the original's cluster IP or node ports, and is reached inside the cluster only.
            serviceSpec["clusterIP"] = nil; serviceSpec["clusterIPs"] = nil
            serviceSpec["type"] = .string("ClusterIP")
            serviceSpec["ports"] = serviceSpec["ports"].map { ports in
                .array((ports.array ?? []).map { p in var o = p.object ?? [:]; o["nodePort"] = nil; return .object(o) })
            }
            var sel = serviceSpec["selector"]?.object ?? [:]
            sel[spec.variantLabel.key] = .string(spec.variantLabel.value(variant))
            serviceSpec["selector"] = .object(sel)
            copy.object["spec"] = .object(serviceSpec)
            out.append(copy)
        }
        return placed(out)
    }

    /// The Service fronting the workloads: spec.service.name, else the first Service.
    public func service(in manifests: [Manifest]) -> Manifest? {
        manifests.first { $0.kind == "Service" && (spec.serviceName == nil || $0.name == spec.serviceName) }
    }

    /// `replicas` of a variant: a number, "N" or "N%" of the primary's (rounded up, at least 1); default 1.
    public static func replicas(_ value: JSONValue?, primary: Manifest) throws -> Int {
        guard let value, !value.isNull else { return 1 }
        let base = Int(primary["spec.replicas"]?.number ?? 1)
        if let text = value.string, text.hasSuffix("%") {
            guard let percent = Double(text.dropLast()), percent > 0, percent <= 100 else {
                throw StageError.invalidStage("with.replicas \(text) must be a percentage from 1% to 100%")
            }
            return max(1, Int((Double(base) * percent / 100).rounded(.up)))
        }
        guard let n = value.number, n == n.rounded(), n >= 0 else {
            throw StageError.invalidStage("with.replicas must be a number of pods or a percentage such as 60%, not \(value.encoded())")
        }
        return Int(n)
    }

    private func markPods(_ m: inout Manifest, _ variant: Variant) {
        let value = JSONValue.string(spec.variantLabel.value(variant))
        var matchLabels = m["spec.selector.matchLabels"]?.object ?? [:]
        matchLabels[spec.variantLabel.key] = value
        m["spec.selector.matchLabels"] = .object(matchLabels)
        var podLabels = m["spec.template.metadata.labels"]?.object ?? [:]
        podLabels[spec.variantLabel.key] = value
        m["spec.template.metadata.labels"] = .object(podLabels)
    }

    /// Points the pod template at the variant's copies of ConfigMaps and Secrets.
    private func renameConfigReferences(_ m: inout Manifest, _ renamed: [String: [String: String]]) {
        guard var pod = m["spec.template.spec"] else { return }
        func rename(_ v: inout JSONValue, _ path: String, _ kind: String) {
            if let old = JSONPath.get(v, path)?.string, let new = renamed[kind]?[old] { JSONPath.set(&v, path, .string(new)) }
        }
        if var volumes = pod["volumes"]?.array {
            for i in volumes.indices {
                rename(&volumes[i], "configMap.name", "ConfigMap")
                rename(&volumes[i], "secret.secretName", "Secret")
                if var sources = volumes[i]["projected"]?["sources"]?.array {
                    for j in sources.indices {
                        rename(&sources[j], "configMap.name", "ConfigMap")
                        rename(&sources[j], "secret.name", "Secret")
                    }
                    JSONPath.set(&volumes[i], "projected.sources", .array(sources))
                }
            }
            JSONPath.set(&pod, "volumes", .array(volumes))
        }
        for field in ["containers", "initContainers"] {
            guard var containers = pod[field]?.array else { continue }
            for i in containers.indices {
                if var envFrom = containers[i]["envFrom"]?.array {
                    for j in envFrom.indices {
                        rename(&envFrom[j], "configMapRef.name", "ConfigMap")
                        rename(&envFrom[j], "secretRef.name", "Secret")
                    }
                    JSONPath.set(&containers[i], "envFrom", .array(envFrom))
                }
                if var env = containers[i]["env"]?.array {
                    for j in env.indices {
                        rename(&env[j], "valueFrom.configMapKeyRef.name", "ConfigMap")
                        rename(&env[j], "valueFrom.secretKeyRef.name", "Secret")
                    }
                    JSONPath.set(&containers[i], "env", .array(env))
                }
            }
            JSONPath.set(&pod, field, .array(containers))
        }
        m["spec.template.spec"] = pod
    }
}
