#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FunctionKit

/// What a KubernetesApp's config (PipeCD's field names) says about how to deploy it. The function reads it from
/// the app's directory itself, as the planner's diff rule does: the planner passes directories, not config.
public struct KubernetesAppSpec: Sendable, Equatable {
    public var name: String?
    /// spec.input.manifests: files relative to the app's directory; empty means every YAML file there.
    public var manifests: [String] = []
    public var namespace: String?
    public var autoCreateNamespace = false
    /// spec.quickSync.prune: K8S_SYNC deletes the app's objects its manifests no longer have.
    public var prune = false
    public var variantLabel = VariantLabel()
    /// spec.workloads: which Deployments are the app's workloads (default: every Deployment).
    public var workloads: [(kind: String, name: String)] = []
    /// spec.service.name: the Service that fronts the workloads (default: the first Service).
    public var serviceName: String?
    public var trafficRouting: TrafficRouting?

    public struct VariantLabel: Sendable, Equatable {
        /// PipeCD's key, so an app moved from PipeCD keeps its labels.
        public var key = "pipecd.dev/variant"
        public var primaryValue = "primary"
        public var canaryValue = "canary"
        public var baselineValue = "baseline"
        public init() {}
        public func value(_ variant: Variant) -> String {
            switch variant {
            case .primary: primaryValue
            case .canary: canaryValue
            case .baseline: baselineValue
            }
        }
    }

    public struct TrafficRouting: Sendable, Equatable {
        public enum Method: String, Sendable { case podselector, istio }
        public var method: Method
        /// istio.host: the destination host whose routes are weighted (default: the Service's name).
        public var istioHost: String?
        /// istio.virtualService.name (default: the first VirtualService).
        public var virtualService: String?
        /// istio.editableRoutes: names of the http routes that may be edited (empty: every route to the host).
        public var editableRoutes: [String] = []
    }

    public static func == (a: KubernetesAppSpec, b: KubernetesAppSpec) -> Bool {
        a.name == b.name && a.manifests == b.manifests && a.namespace == b.namespace
            && a.autoCreateNamespace == b.autoCreateNamespace && a.prune == b.prune && a.variantLabel == b.variantLabel
            && a.workloads.map { "\($0.kind)/\($0.name)" } == b.workloads.map { "\($0.kind)/\($0.name)" }
            && a.serviceName == b.serviceName && a.trafficRouting == b.trafficRouting
    }

    public init() {}

    static let exactNames = ["app.gantry.yaml", "app.pipecd.yaml", ".pipe.yaml"]

    /// Whether `file` is an application config rather than a manifest.
    public static func isAppConfigFile(_ file: String) -> Bool {
        let base = file.split(separator: "/").last.map(String.init) ?? file
        return exactNames.contains(base) || (base.hasSuffix(".pipecd.yaml") && base != ".pipecd.yaml")
    }

    /// Reads the KubernetesApp config in `directory`; with several, the one whose spec.name is `application`. A
    /// PipeCD v1 `kind: Application` config keeps the same keys under `spec.plugins.kubernetes`.
    public static func read(directory: String, application: String) throws -> KubernetesAppSpec {
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        var found: [JSONValue] = []
        for file in entries where isAppConfigFile(file) {
            guard let data = FileManager.default.contents(atPath: directory + "/" + file),
                  let doc = try? YAMLValues.document(String(decoding: data, as: UTF8.self), file: file),
                  let spec = kubernetesSpec(of: doc) else { continue }
            found.append(spec)
        }
        guard !found.isEmpty else {
            throw YAMLValues.Problem("no KubernetesApp config (app.pipecd.yaml, app.gantry.yaml, ...) in the app's directory")
        }
        let chosen = found.count == 1 ? found[0] : found.first { $0["name"]?.string == application } ?? found[0]
        return try parse(chosen)
    }

    /// The keys this function reads: `spec` of a KubernetesApp, or `spec.plugins.kubernetes` (with `spec.name`) of a
    /// v1 Application; nil for any other config.
    static func kubernetesSpec(of doc: JSONValue) -> JSONValue? {
        switch doc["kind"]?.string {
        case "KubernetesApp"?:
            return doc["spec"] ?? .object([:])
        case "Application"?:
            guard let entry = doc["spec"]?["plugins"]?.object?["kubernetes"] else { return nil }
            var plugin = entry.object ?? [:]   // `kubernetes:` with nothing under it: every default
            if plugin["name"] == nil, let name = doc["spec"]?["name"] { plugin["name"] = name }
            return .object(plugin)
        default:
            return nil
        }
    }

    static func parse(_ spec: JSONValue) throws -> KubernetesAppSpec {
        var out = KubernetesAppSpec()
        out.name = spec["name"]?.string
        let input = spec["input"]
        if let list = input?["manifests"], !list.isNull {
            guard let items = list.array?.compactMap(\.string), items.count == list.array?.count else {
                throw YAMLValues.Problem("spec.input.manifests must be a list of file names")
            }
            for file in items where file.hasPrefix("/") || file.split(separator: "/").contains("..") {
                throw YAMLValues.Problem("spec.input.manifests: \(file) must be a file inside the app's directory")
            }
            out.manifests = items
        }
        out.namespace = input?["namespace"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        out.autoCreateNamespace = input?["autoCreateNamespace"]?.bool ?? false
        out.prune = spec["quickSync"]?["prune"]?.bool ?? false
        if let v = spec["variantLabel"] {
            if let s = v["key"]?.string { out.variantLabel.key = s }
            if let s = v["primaryValue"]?.string { out.variantLabel.primaryValue = s }
            if let s = v["canaryValue"]?.string { out.variantLabel.canaryValue = s }
            if let s = v["baselineValue"]?.string { out.variantLabel.baselineValue = s }
        }
        for w in spec["workloads"]?.array ?? [] {
            guard let name = w["name"]?.string else { throw YAMLValues.Problem("spec.workloads: each entry needs a name") }
            out.workloads.append((w["kind"]?.string ?? "Deployment", name))
        }
        out.serviceName = spec["service"]?["name"]?.string
        if let routing = spec["trafficRouting"], !routing.isNull {
            let text = routing["method"]?.string ?? "podselector"
            guard let method = TrafficRouting.Method(rawValue: text) else {
                throw YAMLValues.Problem("spec.trafficRouting.method \(text) is not supported (podselector or istio)")
            }
            let istio = routing["istio"]
            out.trafficRouting = TrafficRouting(method: method, istioHost: istio?["host"]?.string,
                                                virtualService: istio?["virtualService"]?["name"]?.string,
                                                editableRoutes: istio?["editableRoutes"]?.array?.compactMap(\.string) ?? [])
        }
        return out
    }

    /// The app's workloads among `manifests`: those spec.workloads names, else every Deployment.
    public func workloads(in manifests: [Manifest]) -> [Manifest] {
        if workloads.isEmpty { return manifests.filter(\.isWorkload) }
        return manifests.filter { m in workloads.contains { $0.kind == m.kind && $0.name == m.name } }
    }
}

public enum Variant: String, Sendable, CaseIterable { case primary, canary, baseline }
