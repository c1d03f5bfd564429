import Yams

/// The keys of an app config the planner or the app's function reads, level by level. A key outside them is not
/// dropped without a word: it becomes a warning shown on the application, naming the key and its line.
enum ConfigKeys {
    static let document: Set<String> = ["apiVersion", "kind", "spec"]
    /// Read by the planner; a platform's own keys come from its function's `configKeys`.
    static let spec: Set<String> = ["name", "labels", "description", "platform", "timeout", "rollbackTimeout", "pipeline",
                                    "planner", "autoRollback", "commitMatcher", "trigger"]
    static let planner: Set<String> = ["alwaysUsePipeline", "autoRollback"]
    static let trigger: Set<String> = ["onCommit"]
    static let onCommit: Set<String> = ["disabled", "paths", "ignores"]
    static let commitMatcher: Set<String> = ["quickSync", "pipeline"]
    static let pipeline: Set<String> = ["stages"]
    static let stage: Set<String> = ["id", "name", "desc", "timeout", "with", "retry", "skipOn"]
    /// PipeCD v1: `spec.plugins.<plugin>` holds the platform's keys and where it deploys.
    static let plugin: Set<String> = ["deployTarget", "deployTargets"]

    /// One warning per key of `mapping` not in `known`: "spec.notification is not implemented by Gantry and is ignored".
    static func warnings(_ mapping: Node.Mapping?, known: Set<String>, path: String) -> [ConfigProblem] {
        guard let mapping else { return [] }
        return mapping.compactMap { key, _ in
            guard let name = key.string, !known.contains(name) else { return nil }
            return ConfigProblem(line: key.mark?.line,
                                 message: "\(path.isEmpty ? "" : path + ".")\(name) is not implemented by Gantry and is ignored")
        }
    }
}
