import RepositoryYAML

/// The keys of an app config the planner or the app's function reads, level by level. A key outside them is not
/// dropped without a word: it becomes a warning shown on the application, naming the key and its line.
enum ConfigKeys {
    static let document: Set<String> = ["apiVersion", "kind", "spec"]
    /// Read by the planner; a platform's own keys come from its function's `configKeys`.
    static let spec: Set<String> = ["name", "labels", "description", "platform", "timeout", "rollbackTimeout", "pipeline",
                                    "planner", "autoRollback", "commitMatcher", "trigger", "encryption"]
    static let encryption: Set<String> = ["encryptedSecrets", "decryptionTargets"]
    static let planner: Set<String> = ["alwaysUsePipeline", "autoRollback"]
    static let trigger: Set<String> = ["onCommit"]
    static let onCommit: Set<String> = ["disabled", "paths", "ignores"]
    static let commitMatcher: Set<String> = ["quickSync", "pipeline"]
    static let pipeline: Set<String> = ["stages"]
    static let stage: Set<String> = ["id", "name", "desc", "timeout", "with", "retry", "skipOn"]
    /// PipeCD v1: `spec.plugins.<plugin>` holds the platform's keys and where it deploys.
    static let plugin: Set<String> = ["deployTarget", "deployTargets"]

    /// One warning per key of `mapping` not in `known`: "spec.notification is not implemented by Gantry and is ignored".
    static func warnings(_ mapping: YAMLField, known: Set<String>) throws -> [ConfigProblem] {
        try mapping.entries().compactMap { key, value in
            known.contains(key) ? nil : ConfigProblem(line: value.line, message: "\(value.path) is not implemented by Gantry and is ignored")
        }
    }
}
