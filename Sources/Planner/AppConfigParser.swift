import Foundation
import FunctionKit
import RepositoryYAML
import Store
import Yams

/// Reads one application config file into an `AppConfig`. Syntax errors keep Yams' line; type errors name
/// the field and the line of the wrong node. Fields the planner does not use are ignored, so PipeCD
/// configs (which carry many more) are read as they are.
enum AppConfigParser {
    /// - Parameter strictKind: false for `*.pipecd.yaml`, where PipeCD keeps other kinds of config too:
    ///   a file that is not an application config there yields nil instead of an error.
    static func parse(_ text: String, strictKind: Bool = true) throws -> AppConfig? {
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
        let kind: AppKind
        switch apiVersion {
        case ConfigAPIVersion.gantry?:
            guard let k = AppKind.named(kindName ?? AppKind.generic.name) else {
                guard strictKind else { return nil }
                throw kindField.problem("kind \(kindName ?? "") is not an application kind "
                                        + "(expected App, " + AppKind.platformKinds.map(\.name).joined(separator: ", ") + ")")
            }
            kind = k
        case ConfigAPIVersion.pipecd?:
            guard let name = kindName, let k = AppKind.platformKinds.first(where: { $0.name == name }) else {
                guard strictKind else { return nil }
                throw kindField.problem((kindName.map { "kind \($0) is not supported" } ?? "kind is missing")
                                        + " (expected " + AppKind.platformKinds.map(\.name).joined(separator: ", ") + ")")
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
        try readSpec(top.field("spec").mapping(), into: &config)
        return config
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

        config.stages = try spec.field("pipeline").field("stages").items().map(readStage)

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

        let onCommit = try spec.field("trigger").field("onCommit").mapping()
        config.onCommit.disabled = try onCommit.field("disabled").bool() ?? false
        config.onCommit.paths = try onCommit.field("paths").stringList()
        config.onCommit.ignores = try onCommit.field("ignores").stringList()
    }

    private static func readStage(_ stage: YAMLField) throws -> StageConfig {
        guard stage.node?.mapping != nil else { throw stage.mustBe("a mapping with a name") }
        guard let name = try stage.field("name").string(), !name.isEmpty else { throw stage.problem("\(stage.path).name is missing") }
        var config = StageConfig(name: name)
        config.id = try stage.field("id").string()
        config.with = try stage.field("with").mapping().json ?? config.with
        config.timeoutSeconds = try duration(stage.field("timeout"))
        config.retry = try readRetry(stage.field("retry"))
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
    private static func duration(_ field: YAMLField) throws -> Double? {
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
