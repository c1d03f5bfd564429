#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FunctionKit

/// The manifests of an app's directory: `spec.input.manifests`, else every YAML file there (app configs left
/// out); when the directory holds a kustomization, what `kubectl kustomize` builds from it.
public enum ManifestLoader {
    public static let kustomizationFiles = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    public static func hasKustomization(_ directory: String) -> Bool {
        kustomizationFiles.contains { FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    /// - Parameter kustomize: builds a kustomization directory into YAML (the function runs `kubectl kustomize`).
    public static func load(directory: String, spec: KubernetesAppSpec,
                            kustomize: (String) throws -> String) throws -> [Manifest] {
        var manifests: [Manifest] = []
        if spec.manifests.isEmpty && hasKustomization(directory) {
            manifests = try parse(try kustomize(directory), file: "kustomize output")
        } else {
            let files: [String]
            if spec.manifests.isEmpty {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                files = entries.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !KubernetesAppSpec.isAppConfigFile($0) }
                    .sorted()
            } else {
                files = spec.manifests
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: directory + "/" + file) else {
                    throw YAMLValues.Problem("manifest \(file) cannot be read (listed in spec.input.manifests?)")
                }
                manifests += try parse(String(decoding: data, as: UTF8.self), file: file, strict: !spec.manifests.isEmpty)
            }
        }
        var seen = Set<ResourceKey>()
        for m in manifests where !seen.insert(m.key).inserted {
            throw YAMLValues.Problem("\(m.displayName) is defined twice in the manifests")
        }
        return manifests
    }

    /// The Kubernetes objects of one YAML stream. A `List` is unpacked. Documents without apiVersion and kind
    /// are an error in a named manifest file, and skipped in a directory scan (it may hold other YAML).
    public static func parse(_ text: String, file: String, strict: Bool = true) throws -> [Manifest] {
        var out: [Manifest] = []
        for (i, doc) in try YAMLValues.documents(text, file: file).enumerated() {
            guard let object = doc.object, object["apiVersion"]?.string != nil, let kind = object["kind"]?.string else {
                if strict { throw YAMLValues.Problem("\(file) document \(i + 1) is not a Kubernetes object (no apiVersion and kind)") }
                continue
            }
            if kind.hasSuffix("List"), let items = object["items"]?.array {
                out += items.compactMap { $0.object.map(Manifest.init(object:)) }
                continue
            }
            // An app config of another kind in a manifest folder (e.g. PipeCD's) is not deployed.
            if object["apiVersion"]?.string?.hasPrefix("pipecd.dev/") == true || object["apiVersion"]?.string?.hasPrefix("gantry.dev/") == true {
                continue
            }
            let m = Manifest(object: object)
            guard !m.name.isEmpty else { throw YAMLValues.Problem("\(file): \(kind) document \(i + 1) has no metadata.name") }
            out.append(m)
        }
        return out
    }
}
