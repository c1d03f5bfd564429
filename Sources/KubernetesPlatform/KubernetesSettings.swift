import FunctionKit

/// The server config's platform entry for this app, as the event's `platform` carries it:
/// `{name, kind: kubernetes, kubeconfig, context, kubectl}` (docs/server-config.md, "platforms"). Every auth
/// method kubectl supports works, because kubectl reads the kubeconfig itself.
public struct KubernetesSettings: Sendable, Equatable {
    public var name: String
    public var kubeconfig: String?
    public var context: String?
    /// A kubectl binary other than the one on PATH.
    public var kubectl: String
    /// kubectl's cache (`--cache-dir`) under the function's `$GANTRY_CACHE`: API discovery is learned once per
    /// cluster instead of once per stage (about 100 ms each against a fake on loopback, more on a real cluster).
    public var cacheDir: String?

    public init(platform: JSONValue, environment: [String: String]) throws {
        guard let object = platform.object, !object.isEmpty else {
            throw StageError.invalidPlatform("this app has no kubernetes platform: add one with kind: kubernetes under "
                                             + "platforms: in the server config (or name it with spec.platform)")
        }
        name = object["name"]?.string ?? "kubernetes"
        if let kind = object["kind"]?.string, kind != "kubernetes" {
            throw StageError.invalidPlatform("platform \(name) is a \(kind) platform, not kubernetes")
        }
        kubeconfig = object["kubeconfig"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        if let path = kubeconfig, !path.hasPrefix("/") {
            throw StageError.invalidPlatform("platform \(name): kubeconfig must be an absolute path, not \(path)")
        }
        context = object["context"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        kubectl = object["kubectl"]?.string ?? environment["GANTRY_KUBECTL"] ?? "kubectl"
        cacheDir = environment["GANTRY_CACHE"].flatMap { $0.isEmpty ? nil : $0 + "/kubectl" }
    }
}
