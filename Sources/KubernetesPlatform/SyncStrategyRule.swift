import FunctionKit

/// PipeCD's platform diff rule for Kubernetes apps: compare the running commit's manifests with the target's.
/// A changed pod template, ConfigMap or Secret needs the pipeline; a change of replicas alone, or anything
/// else, is applied by quick sync. The summary names the image change when there is one.
public enum SyncStrategyRule {
    public static func decide(running: [Manifest], target: [Manifest], spec: KubernetesAppSpec) -> StrategyVerdict {
        let old = spec.workloads(in: running), new = spec.workloads(in: target)
        guard !old.isEmpty else {
            return StrategyVerdict(pipeline: false, summary: "Quick sync by applying all manifests because it was unable to find "
                           + "the currently running workloads")
        }
        guard !new.isEmpty else {
            return StrategyVerdict(pipeline: false, summary: "Quick sync by applying all manifests because it was unable to find "
                           + "workloads in the new manifests")
        }
        let oldByKey = Dictionary(old.map { ($0.key, $0) }) { a, _ in a }
        var scales: [String] = []
        for w in new {
            guard let before = oldByKey[w.key] else { continue }
            if before["spec.template"] != w["spec.template"] {
                if let change = imageChange(before, w) {
                    return StrategyVerdict(pipeline: true, summary: "Sync progressively because of updating image \(change)")
                }
                return StrategyVerdict(pipeline: true, summary: "Sync progressively because pod template of workload \(w.name) was changed")
            }
            let a = before["spec.replicas"]?.string ?? "1", b = w["spec.replicas"]?.string ?? "1"
            if a != b { scales.append("\(w.kind)/\(w.name) from \(a) to \(b)") }
        }
        let oldConfigs = Dictionary(running.filter(\.isConfig).map { ($0.key, $0) }) { a, _ in a }
        let newConfigs = Dictionary(target.filter(\.isConfig).map { ($0.key, $0) }) { a, _ in a }
        if oldConfigs.count > newConfigs.count {
            return StrategyVerdict(pipeline: true, summary: "Sync progressively because \(oldConfigs.count - newConfigs.count) configmap/secret deleted")
        }
        if oldConfigs.count < newConfigs.count {
            return StrategyVerdict(pipeline: true, summary: "Sync progressively because new \(newConfigs.count - oldConfigs.count) configmap/secret added")
        }
        for (key, c) in oldConfigs.sorted(by: { $0.key < $1.key }) {
            guard let now = newConfigs[key] else {
                return StrategyVerdict(pipeline: true, summary: "Sync progressively because \(c.kind) \(c.name) was deleted")
            }
            if content(c) != content(now) {
                return StrategyVerdict(pipeline: true, summary: "Sync progressively because \(c.kind) \(c.name) was updated")
            }
        }
        if !scales.isEmpty {
            return StrategyVerdict(pipeline: false, summary: "Quick sync to scale \(scales.sorted().joined(separator: ", "))")
        }
        return StrategyVerdict(pipeline: false, summary: "Quick sync by applying all manifests")
    }

    /// A config's content: everything but its metadata's bookkeeping.
    private static func content(_ m: Manifest) -> JSONValue {
        var o = m.object
        o["metadata"] = .object(["labels": m.object["metadata"]?["labels"] ?? .null,
                                 "annotations": m.object["metadata"]?["annotations"] ?? .null])
        return .object(o)
    }

    /// "demo from v0.1.0 to v0.2.0" for the first container whose image changed.
    static func imageChange(_ before: Manifest, _ after: Manifest) -> String? {
        func images(_ m: Manifest) -> [(String, String)] {
            (m["spec.template.spec.containers"]?.array ?? []).compactMap { c in
                guard let image = c["image"]?.string else { return nil }
                return (c["name"]?.string ?? "", image)
            }
        }
        let old = Dictionary(images(before)) { a, _ in a }
        for (name, image) in images(after) {
            guard let was = old[name], was != image else { continue }
            let (repoA, tagA) = split(was), (repoB, tagB) = split(image)
            if repoA == repoB { return "\(repoB) from \(tagA) to \(tagB)" }
            return "from \(was) to \(image)"
        }
        return nil
    }

    /// "registry:5000/team/app:v1" → ("registry:5000/team/app", "v1"); a digest stays whole.
    public static func split(_ image: String) -> (String, String) {
        if let at = image.firstIndex(of: "@") { return (String(image[..<at]), String(image[image.index(after: at)...])) }
        let lastSlash = image.lastIndex(of: "/") ?? image.startIndex
        if let colon = image[lastSlash...].lastIndex(of: ":") {
            return (String(image[..<colon]), String(image[image.index(after: colon)...]))
        }
        return (image, "latest")
    }
}
