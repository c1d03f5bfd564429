import Foundation
import FunctionKit
import RepositoryYAML
import Store
import Yams

/// Reads one application config file into an `AppConfig`. Syntax errors keep Yams' line; type errors name
/// the field and the line of the wrong node. PipeCD configs are read as they are; a key that neither the planner nor
/// the kind's function reads becomes a warning on the application, with its line.
enum AppConfigParser {
    /// - Parameters:
    ///   - kinds: the app kinds the functions declare; `App` is always known to gantry.dev/v1.
    ///   - strictKind: false for `*.pipecd.yaml`, where PipeCD keeps other kinds of config too: a file that is not
    ///     an application config there yields nil instead of an error.
    static func parse(_ text: String, kinds: AppKinds, strictKind: Bool = true) throws -> AppConfig? {
        let root: Node
        do {
            guard let node = try RepositoryYAML.read(text) else { throw ConfigProblem(line: nil, message: "the file is empty") }
            root = node
        } catch let unreadable as RepositoryYAML.Unreadable {
            // libyaml's own words, without the "invalid YAML" other readers put first.
            throw ConfigProblem(line: unreadable.line, message: unreadable.reason)
        }
        guard root.mapping != nil else {
            throw ConfigProblem(line: root.mark?.line, message: "the file must be a mapping with apiVersion, kind and spec")
        }
        let top = YAMLField(root: root)

        let apiVersionField = try top.field("apiVersion"), kindField = try top.field("kind")
        let apiVersion = try apiVersionField.string()
        let kindName = try kindField.string()
        let spec = try top.field("spec").mapping()
        let kind: AppKind
        var plugin: YAMLField?
        switch apiVersion {
        case ConfigAPIVersion.gantry?:
            let name = kindName ?? AppKind.generic.name
            guard let k = name == AppKind.generic.name ? AppKind.generic : kinds.platformKind(named: name) else {
                guard strictKind else { return nil }
                throw kindField.problem("kind \(name) is not an application kind any function deploys "
                                        + "(expected App or one of the functions' appKinds: \(kinds.names))")
            }
            kind = k
        case ConfigAPIVersion.pipecd? where kindName == "Application":
            (kind, plugin) = try pluginKind(spec, kinds: kinds)
        case ConfigAPIVersion.pipecd?:
            guard let name = kindName, let k = kinds.platformKind(named: name) else {
                guard strictKind else { return nil }
                throw kindField.problem((kindName.map { "kind \($0) is not supported" } ?? "kind is missing")
                                        + " (expected Application or one of the functions' appKinds: \(kinds.names))")
            }
            kind = k
        case nil:
            guard strictKind else { return nil }
            throw top.problem("apiVersion is missing (expected \(ConfigAPIVersion.gantry) or \(ConfigAPIVersion.pipecd))")
        case let other?:
            guard strictKind else { return nil }
            throw apiVersionField.problem("apiVersion \(other) is not supported (expected \(ConfigAPIVersion.gantry) or \(ConfigAPIVersion.pipecd))")
        }

        var config = AppConfig(apiVersion: apiVersion ?? "", kind: kind)
        try readSpec(spec, into: &config)
        // Opened when the deployment's sources are written (SecretDecryption); its shape is checked here, at its line.
        let encryption = try spec.field("encryption").mapping()
        _ = try encryption.field("encryptedSecrets").stringMap()
        _ = try encryption.field("decryptionTargets").stringList()
        config.warnings += try ConfigKeys.warnings(encryption, known: ConfigKeys.encryption)
        config.warnings += try ConfigKeys.warnings(top, known: ConfigKeys.document)
        if let plugin {
            config.warnings += try ConfigKeys.warnings(spec, known: ConfigKeys.spec.union(["plugins"]))
            config.warnings += try ConfigKeys.warnings(plugin, known: ConfigKeys.plugin.union(kind.configKeys))
            if config.platform == nil { config.platform = try deployTarget(plugin) }
        } else {
            config.warnings += try ConfigKeys.warnings(spec, known: ConfigKeys.spec.union(kind.configKeys))
        }
        config.warnings.sort { ($0.line ?? 0) < ($1.line ?? 0) }
        return config
    }

    /// PipeCD v1: `kind: Application`, whose platform is the one plugin under `spec.plugins` that a function declares.
    private static func pluginKind(_ spec: YAMLField, kinds: AppKinds) throws -> (AppKind, YAMLField) {
        let plugins = try spec.field("plugins")
        let entries = try plugins.entries()
        let known = entries.compactMap { entry in kinds.platformKind(plugin: entry.key).map { (entry, $0) } }
        guard known.count == 1, let (entry, kind) = known.first else {
            throw plugins.problem(known.isEmpty
                                  ? "spec.plugins names no plugin a function deploys (it names: "
                                      + (entries.isEmpty ? "none" : entries.map(\.key).joined(separator: ", "))
                                      + "; the functions' plugins: \(kinds.pluginNames))"
                                  : "spec.plugins names \(known.count) platforms (\(known.map(\.0.key).joined(separator: ", "))); "
                                      + "an application deploys to one")
        }
        return (kind, try entry.value.mapping())
    }

    /// `deployTarget: dev` or `deployTargets: [dev]`: the platform entry of the server config it deploys to.
    private static func deployTarget(_ plugin: YAMLField) throws -> String? {
        if let one = try plugin.field("deployTarget").string(), !one.isEmpty { return one }
        let many = try plugin.field("deployTargets")
        let list = try many.stringList()
        guard list.count <= 1 else {
            throw many.problem("\(many.path) names \(list.count) platforms; Gantry deploys an application to one")
        }
        return list.first
    }

    private static func readSpec(_ spec: YAMLField, into config: inout AppConfig) throws {
        config.name = try spec.field("name").string().flatMap { $0.isEmpty ? nil : $0 }
        config.labels = try spec.field("labels").stringMap()
        config.platform = try spec.field("platform").string().flatMap { $0.isEmpty ? nil : $0 }
        if let t = try duration(spec.field("timeout")) { config.timeoutSeconds = t }
        let rollbackTimeout = try spec.field("rollbackTimeout")
        if let t = try duration(rollbackTimeout) {
            guard t > 0 else { throw rollbackTimeout.problem("spec.rollbackTimeout must be longer than 0s") }
            config.rollbackTimeoutSeconds = t
        }

        let pipeline = try spec.field("pipeline").mapping()
        let stages = try pipeline.field("stages").items()
        config.stages = try stages.map(readStage)
        config.warnings += try ConfigKeys.warnings(pipeline, known: ConfigKeys.pipeline)
        for stage in stages { config.warnings += try ConfigKeys.warnings(stage, known: ConfigKeys.stage) }
        for (i, stage) in config.stages.enumerated() where stage.skipOn != nil && !SkipOn.stages.contains(stage.name) {
            config.warnings.append(ConfigProblem(line: stage.line, message: "spec.pipeline.stages[\(i)].skipOn is honoured "
                                                 + "only for \(SkipOn.stages.sorted().joined(separator: ", ")) and is ignored"))
        }

        // Auto rollback: PipeCD has it under planner, at the spec's top and in a Kubernetes app's input.
        let planner = try spec.field("planner").mapping()
        config.alwaysUsePipeline = try planner.field("alwaysUsePipeline").bool() ?? false
        let input = try spec.field("input").mapping()
        config.autoRollback = try planner.field("autoRollback").bool()
            ?? spec.field("autoRollback").bool()
            ?? input.field("autoRollback").bool()
            ?? true

        let matcher = try spec.field("commitMatcher").mapping()
        config.commitMatcher.quickSync = try regex(matcher.field("quickSync"))
        config.commitMatcher.pipeline = try regex(matcher.field("pipeline"))

        let trigger = try spec.field("trigger").mapping()
        let onCommit = try trigger.field("onCommit").mapping()
        config.onCommit.disabled = try onCommit.field("disabled").bool() ?? false
        config.onCommit.paths = try onCommit.field("paths").stringList()
        config.onCommit.ignores = try onCommit.field("ignores").stringList()
        config.warnings += try ConfigKeys.warnings(planner, known: ConfigKeys.planner)
        config.warnings += try ConfigKeys.warnings(matcher, known: ConfigKeys.commitMatcher)
        config.warnings += try ConfigKeys.warnings(trigger, known: ConfigKeys.trigger)
        config.warnings += try ConfigKeys.warnings(onCommit, known: ConfigKeys.onCommit)
    }

    private static func readStage(_ stage: YAMLField) throws -> StageConfig {
        guard stage.node?.mapping != nil else { throw stage.mustBe("a mapping with a name") }
        guard let name = try stage.field("name").string(), !name.isEmpty else { throw stage.problem("\(stage.path).name is missing") }
        var config = StageConfig(name: name)
        config.id = try stage.field("id").string()
        config.with = try stage.field("with").mapping().json ?? config.with
        config.timeoutSeconds = try duration(stage.field("timeout"))
        config.retry = try readRetry(stage.field("retry"))
        config.skipOn = try SkipOn.read(stage: stage)
        config.line = stage.line
        return config
    }

    /// `retry: {maxAttempts: 3, initialInterval: 1s, maxInterval: 1m, backoffCoefficient: 2}`.
    private static func readRetry(_ retry: YAMLField) throws -> RetryPolicy? {
        guard retry.node != nil else { return nil }
        let attempts = try retry.mapping().field("maxAttempts")
        guard let text = try attempts.string(), let maxAttempts = Int(text), maxAttempts >= 1 else {
            throw attempts.problem("\(attempts.path) must be a whole number of at least 1")
        }
        var policy = RetryPolicy(maxAttempts: maxAttempts)
        if let v = try duration(retry.field("initialInterval")) { policy.initialInterval = v }
        if let v = try duration(retry.field("maxInterval")) { policy.maxInterval = v }
        let coefficient = try retry.field("backoffCoefficient")
        if let text = try coefficient.string() {
            guard let v = Double(text), v >= 1 else { throw coefficient.problem("\(coefficient.path) must be a number of at least 1") }
            policy.backoffCoefficient = v
        }
        policy.nonRetryable = try retry.field("nonRetryable").stringList()
        return policy
    }

    /// A Go-style duration ("10s", "1h30m") or a plain number of seconds.
    static func duration(_ field: YAMLField) throws -> Double? {
        guard let text = try field.string() else { return nil }
        do { return try DurationText.seconds(text) } catch { throw field.problem("\(field.path): \(error)") }
    }

    private static func regex(_ field: YAMLField) throws -> String? {
        guard let pattern = try field.string(), !pattern.isEmpty else { return nil }
        do { _ = try NSRegularExpression(pattern: pattern) } catch {
            throw field.problem("\(field.path) is not a valid regular expression: \(pattern)")
        }
        return pattern
    }
}
