import Foundation
import FunctionKit

/// One attempt to run a function: what the engine hands the host.
public struct InvocationRequest: Sendable {
    public var id: String
    public var function: FunctionSpec
    /// JSON written to the function's stdin, after which stdin is closed.
    public var event: Data
    /// The host creates it fresh (fails if it exists and is not empty), with `tmp/` and `.control/` inside.
    public var directory: String
    /// GANTRY_* variables from the caller, passed to the function as they are.
    public var environment: [String: String]
    /// Absolute deadline of this attempt; the host also caps it at start + `function.timeout`.
    public var deadline: Date
    /// Secret name -> value. Each becomes the 0400 file `<directory>/.secrets/<name>` (the folder 0500, removed
    /// when the attempt ends; under isolation the files are the function user's and the folder, still the
    /// server's, 0555) and `$GANTRY_SECRETS` names the folder; no value ever enters the environment.
    public var secrets: [String: String]
    /// Values masked as `***` (with their base64) in every line passed to `onLog` and in the result's message.
    public var redactions: [String]
    /// `$GANTRY_CACHE`, kept between invocations. Under isolation it stays visible and the host makes it the
    /// function user's (emptying it when it belonged to another user: a cache may vanish at any time).
    public var cacheDirectory: String?
    /// Paths the function reads besides its own folder (the deployment's sources, files its platform entry names):
    /// under isolation they stay visible, read-only, even where the server's paths are hidden.
    public var readOnlyPaths: [String]

    public init(id: String, function: FunctionSpec, event: Data, directory: String,
                environment: [String: String] = [:], deadline: Date, secrets: [String: String] = [:],
                redactions: [String] = [], cacheDirectory: String? = nil, readOnlyPaths: [String] = []) {
        self.id = id; self.function = function; self.event = event; self.directory = directory
        self.environment = environment; self.deadline = deadline; self.secrets = secrets; self.redactions = redactions
        self.cacheDirectory = cacheDirectory; self.readOnlyPaths = readOnlyPaths
    }
}

/// Written by the host from the supervisor's wait4 rusage, never taken from the function's stdout.
public struct AttemptReport: Codable, Sendable, Equatable {
    public var wallMs: Int
    public var cpuMs: Int
    public var maxRssKiB: Int
    public var exitCode: Int32?
    public var signal: Int32?
    /// Which limit ended the attempt: "memory", "cpu", "output" (stdout volume), "deadline", "heartbeat", or
    /// one of the protocol caps: "event", "checkpoint", "outputs", "stdoutLine", "stderr"; nil if none.
    public var limitHit: String?

    public init(wallMs: Int = 0, cpuMs: Int = 0, maxRssKiB: Int = 0, exitCode: Int32? = nil, signal: Int32? = nil,
                limitHit: String? = nil) {
        self.wallMs = wallMs; self.cpuMs = cpuMs; self.maxRssKiB = maxRssKiB
        self.exitCode = exitCode; self.signal = signal; self.limitHit = limitHit
    }
}

/// What one attempt came to.
public struct AttemptOutcome: Sendable {
    public var result: FunctionResult
    /// nil on success; else DeadlineExceeded, MemoryLimit, CpuLimit, OutputLimit, LimitExceeded, HeartbeatTimeout,
    /// Crashed, Cancelled, MissingTool, ProtocolError or IsolationFailed (the function never ran: its namespaces,
    /// hidden paths or user could not be set up).
    public var errorType: String?
    public var report: AttemptReport
    /// The stop (cancel, deadline, shutdown, heartbeat) that ended the attempt; nil when it ended by itself or
    /// a stop came only after its result.
    public var stopReason: StopReason?

    public init(result: FunctionResult, errorType: String?, report: AttemptReport, stopReason: StopReason? = nil) {
        self.result = result; self.errorType = errorType; self.report = report; self.stopReason = stopReason
    }
}

/// Why the host stops a running function; written to `$GANTRY_CONTROL/stop` before SIGTERM.
public enum StopReason: String, Sendable {
    case cancel, deadline, shutdown, heartbeat
}
