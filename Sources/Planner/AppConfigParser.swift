import Foundation
import FunctionKit
import RepositoryYAML
import Store
import Yams

/// Reads one application config file into an `AppConfig`. Syntax errors keep Yams' line; type errors name
/// the field and the line of the wrong node. Fields the planner does not use are ignored, so PipeCD
/// configs (which carry many more) are read as they are.
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
        let kind: AppKind
        switch apiVersion {
        case ConfigAPIVersion.gantry?:
            let name = kindName ?? AppKind.generic.name
            guard let k = name == AppKind.generic.name ? AppKind.generic : kinds.platformKind(named: name) else {
                guard strictKind else { return nil }
                throw ConfigProblem(line: top["kind"]?.mark?.line, message: "kind \(name) is not an application kind "
                                    + "any function deploys (expected App or one of the functions' appKinds: \(kinds.names))")
            }
            kind = k
        case ConfigAPIVersion.pipecd?:
            guard let name = kindName, let k = kinds.platformKind(named: name) else {
                guard strictKind else { return nil }
                throw ConfigProblem(line: (top["kind"] ?? root).mark?.line,
                                    message: (kindName.map { "kind \($0) is not supported" } ?? "kind is missing")
                                        + " (expected one of the functions' appKinds: \(kinds.names))")
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
        let spec = try YAMLFields.mapping(YAMLFields.child(top, "spec"), "spec")
        try readSpec(spec, into: &config)
        return config
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
