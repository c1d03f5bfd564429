import Foundation
import FunctionKit
import RepositoryYAML
import Yams

/// What the placeholders know about the deployed application: its name, its `env` label, and, for a KubernetesApp,
/// `spec.input.namespace` from its config (read from the app's directory, as the platform functions do). An app
/// without a namespace there may name one as PipeCD's `k8sNamespace` arg.
public struct AppFacts: Sendable, Equatable {
    public var name: String
    public var env: String
    public var namespace: String

    public init(name: String, env: String, namespace: String) { self.name = name; self.env = env; self.namespace = namespace }

    public static func read(_ event: FunctionEvent) -> AppFacts {
        AppFacts(name: event.deployment.application, env: event.deployment.labels?["env"] ?? "",
                 namespace: kubernetesNamespace(directory: event.sources.target, application: event.deployment.application) ?? "")
    }

    /// The values for one query; `k8sNamespace` among the args stands in for a namespace the config does not give.
    public func values(args: [String: String], variant: String = "", variantArgs: [String: String] = [:]) -> PlaceholderValues {
        PlaceholderValues(appName: name, appEnv: env, namespace: namespace.isEmpty ? args["k8sNamespace"] ?? "" : namespace,
                          variant: variant, args: args, variantArgs: variantArgs)
    }

    static func kubernetesNamespace(directory: String, application: String) -> String? {
        struct Config: Decodable {
            struct Spec: Decodable {
                struct Input: Decodable { var namespace: String? }
                var name: String?
                var input: Input?
            }
            var kind: String?
            var spec: Spec?
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().filter {
            ["app.gantry.yaml", "app.pipecd.yaml", ".pipe.yaml"].contains($0) || ($0.hasSuffix(".pipecd.yaml") && $0 != ".pipecd.yaml")
        }
        let configs = files.compactMap { file -> Config? in
            guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            guard (try? RepositoryYAML.check(text)) != nil else { return nil }
            return (try? YAMLDecoder().decode(Config.self, from: text)).flatMap { $0.kind == "KubernetesApp" ? $0 : nil }
        }
        let chosen = configs.count == 1 ? configs.first : configs.first { $0.spec?.name == application }
        return chosen?.spec?.input?.namespace
    }
}
