import FunctionHost

/// A kind of application config (`KubernetesApp`, `LambdaApp`, ...): the platform kind it deploys to, the stage a
/// quick sync runs, and the function that deploys it. The planner knows no platform itself: every kind but the
/// generic `App` is declared by a function's `appKinds:` (docs/function-protocol.md, "App kinds").
public struct AppKind: Sendable, Hashable {
    public var name: String
    public var platformKind: String?
    public var syncStage: String?
    /// The function that declared the kind; nil for `App`.
    public var function: String?
    /// Whether that function answers the planning invocation (`DETERMINE_STRATEGY`) for it.
    public var determinesStrategy: Bool
    /// The PipeCD v1 plugin that stands for this kind in a `kind: Application` config (`spec.plugins.<plugin>`).
    public var plugin: String?
    /// The `spec` keys the function reads (under `spec.plugins.<plugin>` in a v1 config).
    public var configKeys: [String]

    public init(name: String, platformKind: String?, syncStage: String?, function: String? = nil,
                determinesStrategy: Bool = false, plugin: String? = nil, configKeys: [String] = []) {
        self.name = name; self.platformKind = platformKind; self.syncStage = syncStage
        self.function = function; self.determinesStrategy = determinesStrategy
        self.plugin = plugin; self.configKeys = configKeys
    }

    /// `App` (gantry.dev/v1 only): no platform, so no quick sync; the pipeline's stages are the deployment.
    public static let generic = AppKind(name: "App", platformKind: nil, syncStage: nil)
}

/// The kinds the functions declare now, in the order they were found; a kind declared twice belongs to the first.
public struct AppKinds: Sendable, Hashable {
    public var platformKinds: [AppKind]

    public init(platformKinds: [AppKind]) {
        var seen = Set<String>()
        self.platformKinds = platformKinds.filter { seen.insert($0.name).inserted }
    }

    public init(functions: [FunctionSpec]) {
        self.init(platformKinds: functions.flatMap { function in
            function.appKinds.map { AppKind(name: $0.kind, platformKind: function.platform, syncStage: $0.syncStage,
                                            function: function.name, determinesStrategy: $0.determinesStrategy,
                                            plugin: $0.plugin, configKeys: $0.configKeys) }
        })
    }

    /// Without functions only the generic `App` can be read.
    public static let none = AppKinds(platformKinds: [])

    func platformKind(named name: String) -> AppKind? { platformKinds.first { $0.name == name } }

    func platformKind(plugin: String) -> AppKind? { platformKinds.first { $0.plugin == plugin } }

    /// "kubernetes" for messages about v1 configs.
    var pluginNames: String {
        let names = platformKinds.compactMap(\.plugin)
        return names.isEmpty ? "none: no function declares a plugin" : names.joined(separator: ", ")
    }

    /// "KubernetesApp, LambdaApp" for messages; says so when no function declares any.
    var names: String {
        platformKinds.isEmpty ? "none: no function declares appKinds" : platformKinds.map(\.name).joined(separator: ", ")
    }
}
