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
            guard let node = try RepositoryYAML.compose(text) else {
                throw ConfigProblem(line: nil, message: "the file is empty")
            }
            root = node
        } catch let problem as ConfigProblem {
            throw problem
        } catch {
            throw problem(from: error)
        }
        guard let top = root.mapping else {
            throw ConfigProblem(line: root.mark?.line, message: "the file must be a mapping with apiVersion, kind and spec")
        }

        let apiVersion = try YAMLFields.string(YAMLFields.child(top, "apiVersion"), "apiVersion")
        let kindName = try YAMLFields.string(YAMLFields.child(top, "kind"), "kind")
        let spec = try YAMLFields.mapping(YAMLFields.child(top, "spec"), "spec")
        var kind: AppKind
        var plugin: (name: String, settings: Node.Mapping?)?
        switch apiVersion {
        case ConfigAPIVersion.gantry?:
            let name = kindName ?? AppKind.generic.name
            guard let k = name == AppKind.generic.name ? AppKind.generic : kinds.platformKind(named: name) else {
                guard strictKind else { return nil }
                throw ConfigProblem(line: top["kind"]?.mark?.line, message: "kind \(name) is not an application kind "
                                    + "any function deploys (expected App or one of the functions' appKinds: \(kinds.names))")
            }
            kind = k
        case ConfigAPIVersion.pipecd? where kindName == "Application":
            (kind, plugin) = try pluginKind(spec, kinds: kinds, line: top["kind"]?.mark?.line)
        case ConfigAPIVersion.pipecd?:
            guard let name = kindName, let k = kinds.platformKind(named: name) else {
                guard strictKind else { return nil }
                throw ConfigProblem(line: (top["kind"] ?? root).mark?.line,
                                    message: (kindName.map { "kind \($0) is not supported" } ?? "kind is missing")
                                        + " (expected Application or one of the functions' appKinds: \(kinds.names))")
            }
            kind = k
        case nil:
            guard strictKind else { return nil }
            throw ConfigProblem(line: root.mark?.line,
                                message: "apiVersion is missing (expected \(ConfigAPIVersion.gantry) or \(ConfigAPIVersion.pipecd))")
        case let other?:
            guard strictKind else { return nil }
            throw ConfigProblem(line: top["apiVersion"]?.mark?.line,
                                message: "apiVersion \(other) is not supported (expected \(ConfigAPIVersion.gantry) or \(ConfigAPIVersion.pipecd))")
        }

        var config = AppConfig(apiVersion: apiVersion ?? "", kind: kind)
        try readSpec(spec, into: &config)
        // Secrets encrypted in Git would reach the platform as their placeholders: refuse rather than deploy them.
        if let encryption = spec?.first(where: { $0.key.string == "encryption" })?.key {
            throw ConfigProblem(line: encryption.mark?.line, message: "spec.encryption: secrets encrypted in Git are not "
                                + "supported by this server, so its placeholders would be deployed as they are; remove it "
                                + "or deploy the secret another way")
        }
        config.warnings += ConfigKeys.warnings(top, known: ConfigKeys.document, path: "")
        if let plugin {
            config.warnings += ConfigKeys.warnings(spec, known: ConfigKeys.spec.union(["plugins"]), path: "spec")
            config.warnings += ConfigKeys.warnings(plugin.settings, known: ConfigKeys.plugin.union(kind.configKeys),
                                                   path: "spec.plugins.\(plugin.name)")
            if config.platform == nil { config.platform = try deployTarget(plugin.settings, plugin: plugin.name) }
        } else {
            config.warnings += ConfigKeys.warnings(spec, known: ConfigKeys.spec.union(kind.configKeys), path: "spec")
        }
        config.warnings.sort { ($0.line ?? 0) < ($1.line ?? 0) }
        return config
    }

    /// PipeCD v1: `kind: Application`, whose platform is the one plugin under `spec.plugins` that a function declares.
    private static func pluginKind(_ spec: Node.Mapping?, kinds: AppKinds,
                                   line: Int?) throws -> (AppKind, (name: String, settings: Node.Mapping?)) {
        let pluginsNode = YAMLFields.child(spec, "plugins")
        let plugins = try YAMLFields.mapping(pluginsNode, "spec.plugins")
        let names = plugins?.compactMap { $0.key.string } ?? []
        let known = names.compactMap { name in kinds.platformKind(plugin: name).map { (name, $0) } }
        guard known.count == 1, let (name, kind) = known.first else {
            throw ConfigProblem(line: pluginsNode?.mark?.line ?? line, message: known.isEmpty
                                ? "spec.plugins names no plugin a function deploys (it names: "
                                    + (names.isEmpty ? "none" : names.joined(separator: ", "))
                                    + "; the functions' plugins: \(kinds.pluginNames))"
                                : "spec.plugins names \(known.count) platforms (\(known.map(\.0).joined(separator: ", "))); "
                                    + "an application deploys to one")
        }
        let settings = try YAMLFields.mapping(YAMLFields.child(plugins, name), "spec.plugins.\(name)")
        return (kind, (name, settings))
    }

    /// `deployTarget: dev` or `deployTargets: [dev]`: the platform entry of the server config it deploys to.
    private static func deployTarget(_ settings: Node.Mapping?, plugin: String) throws -> String? {
        let path = "spec.plugins.\(plugin)"
        if let one = try YAMLFields.string(YAMLFields.child(settings, "deployTarget"), "\(path).deployTarget"), !one.isEmpty {
            return one
        }
        let node = YAMLFields.child(settings, "deployTargets")
        let list = try YAMLFields.stringList(node, "\(path).deployTargets")
        guard list.count <= 1 else {
            throw ConfigProblem(line: node?.mark?.line, message: "\(path).deployTargets names \(list.count) platforms; "
                                + "Gantry deploys an application to one")
        }
        return list.first
    }

    private static func readSpec(_ spec: Node.Mapping?, into config: inout AppConfig) throws {
        func child(_ m: Node.Mapping?, _ key: String) -> Node? { YAMLFields.child(m, key) }

        config.name = try YAMLFields.string(child(spec, "name"), "spec.name").flatMap { $0.isEmpty ? nil : $0 }
        config.labels = try YAMLFields.stringMap(child(spec, "labels"), "spec.labels")
        config.platform = try YAMLFields.string(child(spec, "platform"), "spec.platform").flatMap { $0.isEmpty ? nil : $0 }
        if let t = try YAMLFields.duration(child(spec, "timeout"), "spec.timeout") { config.timeoutSeconds = t }
        if let t = try YAMLFields.duration(child(spec, "rollbackTimeout"), "spec.rollbackTimeout") {
            guard t > 0 else {
                throw ConfigProblem(line: child(spec, "rollbackTimeout")?.mark?.line,
                                    message: "spec.rollbackTimeout must be longer than 0s")
            }
            config.rollbackTimeoutSeconds = t
        }

        let pipeline = try YAMLFields.mapping(child(spec, "pipeline"), "spec.pipeline")
        let stages = try YAMLFields.sequence(child(pipeline, "stages"), "spec.pipeline.stages") ?? []
        config.stages = try stages.enumerated().map { try readStage($1, path: "spec.pipeline.stages[\($0)]") }
        config.warnings += ConfigKeys.warnings(pipeline, known: ConfigKeys.pipeline, path: "spec.pipeline")
        for (i, stage) in stages.enumerated() {
            config.warnings += ConfigKeys.warnings(stage.mapping, known: ConfigKeys.stage, path: "spec.pipeline.stages[\(i)]")
        }
        for (i, stage) in config.stages.enumerated() where stage.skipOn != nil && !SkipOn.stages.contains(stage.name) {
            config.warnings.append(ConfigProblem(line: stage.line, message: "spec.pipeline.stages[\(i)].skipOn is honoured "
                                                 + "only for \(SkipOn.stages.sorted().joined(separator: ", ")) and is ignored"))
        }

        // Auto rollback: PipeCD has it under planner, at the spec's top and in a Kubernetes app's input.
        let planner = try YAMLFields.mapping(child(spec, "planner"), "spec.planner")
        config.alwaysUsePipeline = try YAMLFields.bool(child(planner, "alwaysUsePipeline"), "spec.planner.alwaysUsePipeline") ?? false
        let input = try YAMLFields.mapping(child(spec, "input"), "spec.input")
        config.autoRollback = try YAMLFields.bool(child(planner, "autoRollback"), "spec.planner.autoRollback")
            ?? YAMLFields.bool(child(spec, "autoRollback"), "spec.autoRollback")
            ?? YAMLFields.bool(child(input, "autoRollback"), "spec.input.autoRollback")
            ?? true

        let matcher = try YAMLFields.mapping(child(spec, "commitMatcher"), "spec.commitMatcher")
        config.commitMatcher.quickSync = try regex(child(matcher, "quickSync"), "spec.commitMatcher.quickSync")
        config.commitMatcher.pipeline = try regex(child(matcher, "pipeline"), "spec.commitMatcher.pipeline")

        let trigger = try YAMLFields.mapping(child(spec, "trigger"), "spec.trigger")
        let onCommit = try YAMLFields.mapping(child(trigger, "onCommit"), "spec.trigger.onCommit")
        config.onCommit.disabled = try YAMLFields.bool(child(onCommit, "disabled"), "spec.trigger.onCommit.disabled") ?? false
        config.onCommit.paths = try YAMLFields.stringList(child(onCommit, "paths"), "spec.trigger.onCommit.paths")
        config.onCommit.ignores = try YAMLFields.stringList(child(onCommit, "ignores"), "spec.trigger.onCommit.ignores")
        config.warnings += ConfigKeys.warnings(planner, known: ConfigKeys.planner, path: "spec.planner")
        config.warnings += ConfigKeys.warnings(matcher, known: ConfigKeys.commitMatcher, path: "spec.commitMatcher")
        config.warnings += ConfigKeys.warnings(trigger, known: ConfigKeys.trigger, path: "spec.trigger")
        config.warnings += ConfigKeys.warnings(onCommit, known: ConfigKeys.onCommit, path: "spec.trigger.onCommit")
    }

    private static func readStage(_ node: Node, path: String) throws -> StageConfig {
        guard let m = node.mapping else { throw YAMLFields.wrongType(node, path, "a mapping with a name") }
        guard let name = try YAMLFields.string(YAMLFields.child(m, "name"), "\(path).name"), !name.isEmpty else {
            throw ConfigProblem(line: node.mark?.line, message: "\(path).name is missing")
        }
        var stage = StageConfig(name: name)
        stage.id = try YAMLFields.string(YAMLFields.child(m, "id"), "\(path).id")
        if let with = YAMLFields.child(m, "with") {
            guard with.mapping != nil else { throw YAMLFields.wrongType(with, "\(path).with", "a mapping") }
            stage.with = YAMLFields.json(with)
        }
        stage.timeoutSeconds = try YAMLFields.duration(YAMLFields.child(m, "timeout"), "\(path).timeout")
        stage.retry = try readRetry(YAMLFields.child(m, "retry"), path: "\(path).retry")
        stage.skipOn = try SkipOn.read(stage: m, path: path)
        stage.line = node.mark?.line
        return stage
    }

    /// `retry: {maxAttempts: 3, initialInterval: 1s, maxInterval: 1m, backoffCoefficient: 2}`.
    private static func readRetry(_ node: Node?, path: String) throws -> RetryPolicy? {
        guard let node else { return nil }
        guard let m = node.mapping else { throw YAMLFields.wrongType(node, path, "a mapping") }
        guard let text = try YAMLFields.string(YAMLFields.child(m, "maxAttempts"), "\(path).maxAttempts"),
              let maxAttempts = Int(text), maxAttempts >= 1 else {
            throw ConfigProblem(line: node.mark?.line, message: "\(path).maxAttempts must be a whole number of at least 1")
        }
        var policy = RetryPolicy(maxAttempts: maxAttempts)
        if let v = try YAMLFields.duration(YAMLFields.child(m, "initialInterval"), "\(path).initialInterval") { policy.initialInterval = v }
        if let v = try YAMLFields.duration(YAMLFields.child(m, "maxInterval"), "\(path).maxInterval") { policy.maxInterval = v }
        if let text = try YAMLFields.string(YAMLFields.child(m, "backoffCoefficient"), "\(path).backoffCoefficient") {
            guard let v = Double(text), v >= 1 else {
                throw ConfigProblem(line: node.mark?.line, message: "\(path).backoffCoefficient must be a number of at least 1")
            }
            policy.backoffCoefficient = v
        }
        policy.nonRetryable = try YAMLFields.stringList(YAMLFields.child(m, "nonRetryable"), "\(path).nonRetryable")
        return policy
    }

    private static func regex(_ node: Node?, _ path: String) throws -> String? {
        guard let pattern = try YAMLFields.string(node, path), !pattern.isEmpty else { return nil }
        do { _ = try NSRegularExpression(pattern: pattern) } catch {
            throw ConfigProblem(line: node?.mark?.line, message: "\(path) is not a valid regular expression: \(pattern)")
        }
        return pattern
    }

    /// Yams' errors carry a 1-based mark; keep the line and libyaml's own words.
    private static func problem(from error: Error) -> ConfigProblem {
        if let over = error as? RepositoryYAML.OverBudget { return ConfigProblem(line: over.line, message: over.reason) }
        guard let yaml = error as? YamlError else { return ConfigProblem(line: nil, message: "\(error)") }
        switch yaml {
        case .scanner(_, let problem, let mark, _),
             .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return ConfigProblem(line: mark.line, message: problem)
        case .reader(let problem, _, _, _):
            return ConfigProblem(line: nil, message: problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigProblem(line: context.mark.line,
                                 message: "duplicate key " + duplicates.joined(separator: ", "))
        default:
            return ConfigProblem(line: nil, message: "\(yaml)")
        }
    }
}
