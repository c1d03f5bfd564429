import FunctionKit

/// PipeCD's `with.patches` of K8S_CANARY_ROLLOUT / K8S_BASELINE_ROLLOUT: `yaml-replace` operations on the
/// variant's copies of the app's manifests, optionally inside a YAML document held in a field (`documentRoot`,
/// e.g. `$.data.envoy-config` of a ConfigMap).
enum Patches {
    static func apply(_ patches: JSONValue?, to manifests: [Manifest]) throws -> [Manifest] {
        guard let patches, !patches.isNull else { return manifests }
        guard let list = patches.array else { throw StageError.invalidStage("with.patches must be a list") }
        var out = manifests
        for (n, patch) in list.enumerated() {
            guard let kind = patch["target"]?["kind"]?.string, let name = patch["target"]?["name"]?.string else {
                throw StageError.invalidStage("with.patches[\(n)].target needs kind and name")
            }
            guard let i = out.firstIndex(where: { $0.kind == kind && $0.name == name }) else {
                throw StageError.invalidStage("with.patches[\(n)]: no \(kind) \(name) in the manifests")
            }
            let root = patch["target"]?["documentRoot"]?.string
            var document: JSONValue
            if let root {
                guard let text = JSONPath.get(.object(out[i].object), root)?.string else {
                    throw StageError.invalidStage("with.patches[\(n)]: \(kind) \(name) has no text at \(root)")
                }
                document = try YAMLValues.document(text, file: "\(kind) \(name) \(root)")
            } else {
                document = .object(out[i].object)
            }
            for (m, op) in (patch["ops"]?.array ?? []).enumerated() {
                let kindOfOp = op["op"]?.string ?? "yaml-replace"
                guard kindOfOp == "yaml-replace" || kindOfOp == "replace" else {
                    throw StageError.invalidStage("with.patches[\(n)].ops[\(m)]: op \(kindOfOp) is not supported (yaml-replace)")
                }
                guard let path = op["path"]?.string, JSONPath.get(document, path) != nil else {
                    throw StageError.invalidStage("with.patches[\(n)].ops[\(m)]: path \(op["path"]?.string ?? "(none)") "
                                                  + "is not in \(kind) \(name)")
                }
                JSONPath.set(&document, path, op["value"] ?? .null)
            }
            if let root {
                var whole = JSONValue.object(out[i].object)
                JSONPath.set(&whole, root, .string(try YAMLValues.yaml(document)))
                out[i] = Manifest(object: whole.object ?? [:])
            } else {
                out[i] = Manifest(object: document.object ?? [:])
            }
        }
        return out
    }
}
