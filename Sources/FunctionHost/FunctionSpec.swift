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

    public static let defaultTimeout: Double = 300
    public static let defaultGracePeriod: Double = 10

    public init(name: String, stages: [String], command: [String], folder: String,
                timeout: Double = FunctionSpec.defaultTimeout, limits: FunctionLimits = FunctionLimits(),
                env: [String] = [], gracePeriod: Double = FunctionSpec.defaultGracePeriod,
                heartbeatTimeout: Double? = nil, platform: String? = nil) {
        self.name = name; self.stages = stages; self.command = command; self.folder = folder
        self.timeout = timeout; self.limits = limits; self.env = env; self.gracePeriod = gracePeriod
        self.heartbeatTimeout = heartbeatTimeout; self.platform = platform
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
