import Foundation

/// Resource limits from `function.yaml` `limits:`; nil means "not limited".
public struct FunctionLimits: Sendable, Equatable {
    /// Address-space limit (RLIMIT_AS) in bytes.
    public var memoryBytes: UInt64?
    /// CPU-time limit (RLIMIT_CPU) in seconds.
    public var cpuSeconds: UInt64?
    /// Open-file-descriptor limit (RLIMIT_NOFILE).
    public var openFiles: UInt64?

    public init(memoryBytes: UInt64? = nil, cpuSeconds: UInt64? = nil, openFiles: UInt64? = nil) {
        self.memoryBytes = memoryBytes; self.cpuSeconds = cpuSeconds; self.openFiles = openFiles
    }
}

/// `concurrency:` in function.yaml: at most `limit` invocations of this function run at once per `key`.
public struct FunctionConcurrency: Sendable, Equatable {
    /// The keys the protocol allows: per application, per platform, per function, or one pool for everything.
    public static let keys = ["application", "platform", "function", "global"]
    /// application | platform | function | global
    public var key: String
    public var limit: Int
    public init(key: String, limit: Int) { self.key = key; self.limit = limit }
}

/// One function folder's `function.yaml`, as the host needs it.
public struct FunctionSpec: Sendable, Equatable {
    public var name: String
    /// Stage names this function executes.
    public var stages: [String]
    /// Program and arguments; `command[0]` is resolved by `FunctionRegistry.resolveExecutable`.
    public var command: [String]
    /// Absolute path of the function's folder.
    public var folder: String
    /// Hard cap for one invocation, in seconds.
    public var timeout: Double
    public var limits: FunctionLimits
    /// Names of server environment variables passed through to the function.
    public var env: [String]
    /// Seconds between SIGTERM and SIGKILL when the function is stopped.
    public var gracePeriod: Double
    /// Seconds of stdout silence after which the attempt is declared lost; nil = no heartbeat required.
    public var heartbeatTimeout: Double?
    /// Which platform kind this function serves (e.g. "kubernetes"); nil = any.
    public var platform: String?
    /// Re-invocations after the server died mid-attempt before the stage fails `RecoveryLimit`.
    public var maxRecoveries: Int
    /// Checkpoint `schema`s this version can resume from; nil = any.
    public var checkpointSchemas: [Int]?
    public var concurrency: FunctionConcurrency?
    /// Programs that must be on the server's PATH (checked at plan time; see `FunctionRegistry.missingTools`).
    public var requires: [String]
    /// Names of server-config secrets delivered as files under `$GANTRY_SECRETS`.
    public var secrets: [String]
    /// Names of server-config sections handed to the function in the event's `serverConfig` (e.g.
    /// `analysisProviders`), with the secrets those sections name.
    public var serverConfig: [String] = []
    /// `network: none`: the function runs in an empty network namespace (its own loopback only). Applied with
    /// the server's function isolation; `host` (the default) keeps the machine's network.
    public var network: FunctionNetwork
    /// Lower-case hex SHA-256 of the folder's files (see `FunctionVersion`); "" until the registry loads it.
    public var version: String
    /// The application kinds this function deploys (`appKinds:`, with `platform:` set): the planner knows a kind
    /// only because a function declares it.
    public var appKinds: [AppKindDeclaration] = []

    public static let defaultTimeout: Double = 300
    public static let defaultGracePeriod: Double = 10
    public static let defaultMaxRecoveries = 5

    public init(name: String, stages: [String], command: [String], folder: String,
                timeout: Double = FunctionSpec.defaultTimeout, limits: FunctionLimits = FunctionLimits(),
                env: [String] = [], gracePeriod: Double = FunctionSpec.defaultGracePeriod,
                heartbeatTimeout: Double? = nil, platform: String? = nil,
                maxRecoveries: Int = FunctionSpec.defaultMaxRecoveries, checkpointSchemas: [Int]? = nil,
                concurrency: FunctionConcurrency? = nil, requires: [String] = [], secrets: [String] = [],
                version: String = "", network: FunctionNetwork = .host) {
        self.name = name; self.stages = stages; self.command = command; self.folder = folder
        self.timeout = timeout; self.limits = limits; self.env = env; self.gracePeriod = gracePeriod
        self.heartbeatTimeout = heartbeatTimeout; self.platform = platform
        self.maxRecoveries = maxRecoveries; self.checkpointSchemas = checkpointSchemas
        self.concurrency = concurrency; self.requires = requires; self.secrets = secrets; self.version = version
        self.network = network
    }
}

/// One entry of `appKinds:`: a kind of application config, the stage a quick sync runs, whether the function
/// answers the planning invocation (`StrategyVerdict`) for it, the PipeCD v1 plugin name that stands for the kind in
/// a `kind: Application` config, and the `spec` keys the function itself reads (so the planner can tell a key
/// nobody reads from one the function needs).
public struct AppKindDeclaration: Sendable, Equatable {
    public var kind: String
    public var syncStage: String
    public var determinesStrategy: Bool
    public var plugin: String?
    public var configKeys: [String]
    public init(kind: String, syncStage: String, determinesStrategy: Bool = false, plugin: String? = nil,
                configKeys: [String] = []) {
        self.kind = kind; self.syncStage = syncStage; self.determinesStrategy = determinesStrategy
        self.plugin = plugin; self.configKeys = configKeys
    }
}

/// A failure of the host itself (not of the function), typed like the protocol's errors.
public struct HostError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One of the protocol's error types, e.g. "MissingTool".
    public var type: String
    public var message: String
    public init(type: String, message: String) { self.type = type; self.message = message }
    public var description: String { message }
}

/// A secret's name is also its file name under `$GANTRY_SECRETS`: it must not be able to point elsewhere.
public enum SecretName {
    static let rule = "letters, digits, '.', '_' and '-', not starting with '.'"

    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first != ".", name.utf8.count <= 255 else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
    }
}
