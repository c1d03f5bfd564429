#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Function protocol v1 (docs/function-protocol.md): the event a function reads on stdin. Shared by the host that
/// writes it and the functions that read it, so the two cannot drift.
public struct FunctionEvent: Codable, Sendable, Equatable {
    public var `protocol`: Int
    public var invocation: InvocationInfo
    public var deployment: DeploymentInfo
    public var stage: StageInfo
    public var checkpoint: JSONValue?
    public var sources: Sources
    public var platform: JSONValue
    /// Approvals recorded for this stage so far (WAIT_APPROVAL reads them).
    public var approvals: [ApprovalInfo]
    /// Why a suspended stage was woken (timer, approval, cancel); nil on a first invocation.
    public var resume: ResumeInfo?
    /// Which function and version runs.
    public var function: FunctionInfo?
    /// What earlier stages of this deployment wrote as `{"output": ...}`, by stage index ("0", "1", ...).
    public var outputs: [String: [String: String]]
    /// The server-config sections this function declares in `serverConfig:` (e.g. `analysisProviders`), by name.
    /// A secret in them is `{"secret": NAME}`: its value is the file `$GANTRY_SECRETS/NAME`, never the event.
    public var serverConfig: [String: JSONValue]

    // Spelled out: with both init(from:) and encode(to:) written by hand, Swift synthesizes no CodingKeys.
    private enum CodingKeys: String, CodingKey {
        case `protocol`, invocation, deployment, stage, checkpoint, sources, platform, approvals, resume, function, outputs,
             serverConfig
    }

    public struct InvocationInfo: Codable, Sendable, Equatable {
        public var id: String
        public var key: String
        public var attempt: Int
        public var deadline: String
        /// Re-invocations of this stage caused by the server dying mid-attempt.
        public var recovery: Int?
        /// Single-use credential for `POST /api/v1/callbacks/{token}`.
        public var callbackToken: String?
        public init(id: String, key: String, attempt: Int, deadline: String, recovery: Int? = nil,
                    callbackToken: String? = nil) {
            self.id = id; self.key = key; self.attempt = attempt; self.deadline = deadline
            self.recovery = recovery; self.callbackToken = callbackToken
        }
    }
    public struct TriggerInfo: Codable, Sendable, Equatable {
        public var kind: String
        public var commitMessage: String
        public var author: String
        public init(kind: String, commitMessage: String, author: String) {
            self.kind = kind; self.commitMessage = commitMessage; self.author = author
        }
    }
    public struct DeploymentInfo: Codable, Sendable, Equatable {
        public var id: String
        public var application: String
        public var commit: String
        public var runningCommit: String?
        public var trigger: TriggerInfo
        /// When the deployment was triggered (RFC 3339).
        public var triggeredAt: String?
        /// The planner's sentence: quick sync or pipeline, and why.
        public var summary: String?
        /// `spec.labels` of the application's config.
        public var labels: [String: String]?
        /// The repository's remote, as the server config names it.
        public var repositoryURL: String?
        public init(id: String, application: String, commit: String, runningCommit: String?, trigger: TriggerInfo,
                    triggeredAt: String? = nil, summary: String? = nil, labels: [String: String]? = nil,
                    repositoryURL: String? = nil) {
            self.id = id; self.application = application; self.commit = commit
            self.runningCommit = runningCommit; self.trigger = trigger
            self.triggeredAt = triggeredAt; self.summary = summary; self.labels = labels; self.repositoryURL = repositoryURL
        }
        // Encode runningCommit as an explicit null (docs/function-protocol.md, "The event": the key is always
        // present), not as a missing key.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id); try c.encode(application, forKey: .application)
            try c.encode(commit, forKey: .commit); try c.encode(runningCommit, forKey: .runningCommit)
            try c.encode(trigger, forKey: .trigger)
            try c.encodeIfPresent(triggeredAt, forKey: .triggeredAt); try c.encodeIfPresent(summary, forKey: .summary)
            try c.encodeIfPresent(labels, forKey: .labels); try c.encodeIfPresent(repositoryURL, forKey: .repositoryURL)
        }
    }
    public struct StageInfo: Codable, Sendable, Equatable {
        public var index: Int
        public var name: String
        public var with: JSONValue
        public var rollback: Bool
        /// The whole stage's deadline across retries, backoff and suspensions.
        public var deadline: String?
        public init(index: Int, name: String, with: JSONValue, rollback: Bool, deadline: String? = nil) {
            self.index = index; self.name = name; self.with = with; self.rollback = rollback; self.deadline = deadline
        }
    }
    public struct FunctionInfo: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public init(name: String, version: String) { self.name = name; self.version = version }
    }
    public struct Sources: Codable, Sendable, Equatable {
        public var target: String
        public var running: String?
        /// The repository's shared config folders (`.pipe/`, `.gantry/` at its root) at the deployment's commit, or
        /// nil when it has neither: what the apps of a repository share, such as PipeCD's analysis templates.
        public var shared: String?
        public init(target: String, running: String?, shared: String? = nil) {
            self.target = target; self.running = running; self.shared = shared
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(target, forKey: .target); try c.encode(running, forKey: .running)
            try c.encode(shared, forKey: .shared)
        }
    }
    public struct ApprovalInfo: Codable, Sendable, Equatable {
        public var by: String
        public var at: String
        public init(by: String, at: String) { self.by = by; self.at = at }
    }
    public struct ResumeInfo: Codable, Sendable, Equatable {
        /// timer | callback | approval | cancel | timeout | recovery
        public var reason: String
        public var payload: JSONValue?
        public var by: String?
        /// For a callback: what the outside system reported, "succeeded" or "failed".
        public var status: String?
        public init(reason: String, payload: JSONValue? = nil, by: String? = nil, status: String? = nil) {
            self.reason = reason; self.payload = payload; self.by = by; self.status = status
        }
    }

    public init(invocation: InvocationInfo, deployment: DeploymentInfo, stage: StageInfo, checkpoint: JSONValue?,
                sources: Sources, platform: JSONValue = .object([:]), approvals: [ApprovalInfo] = [],
                resume: ResumeInfo? = nil, function: FunctionInfo? = nil, outputs: [String: [String: String]] = [:],
                serverConfig: [String: JSONValue] = [:]) {
        self.protocol = 1; self.invocation = invocation; self.deployment = deployment; self.stage = stage
        self.checkpoint = checkpoint; self.sources = sources; self.platform = platform
        self.approvals = approvals; self.resume = resume; self.function = function; self.outputs = outputs
        self.serverConfig = serverConfig
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.protocol = try c.decode(Int.self, forKey: .protocol)
        invocation = try c.decode(InvocationInfo.self, forKey: .invocation)
        deployment = try c.decode(DeploymentInfo.self, forKey: .deployment)
        stage = try c.decode(StageInfo.self, forKey: .stage)
        checkpoint = try c.decodeIfPresent(JSONValue.self, forKey: .checkpoint).flatMap { $0.isNull ? nil : $0 }
        sources = try c.decode(Sources.self, forKey: .sources)
        platform = try c.decodeIfPresent(JSONValue.self, forKey: .platform) ?? .object([:])
        approvals = try c.decodeIfPresent([ApprovalInfo].self, forKey: .approvals) ?? []
        resume = try c.decodeIfPresent(ResumeInfo.self, forKey: .resume)
        function = try c.decodeIfPresent(FunctionInfo.self, forKey: .function)
        outputs = try c.decodeIfPresent([String: [String: String]].self, forKey: .outputs) ?? [:]
        serverConfig = try c.decodeIfPresent([String: JSONValue].self, forKey: .serverConfig) ?? [:]
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self.protocol, forKey: .protocol); try c.encode(invocation, forKey: .invocation)
        try c.encode(deployment, forKey: .deployment); try c.encode(stage, forKey: .stage)
        try c.encode(checkpoint ?? .null, forKey: .checkpoint); try c.encode(sources, forKey: .sources)
        try c.encode(platform, forKey: .platform); try c.encode(approvals, forKey: .approvals)
        try c.encodeIfPresent(resume, forKey: .resume)
        try c.encodeIfPresent(function, forKey: .function)
        try c.encode(outputs, forKey: .outputs)
        try c.encode(serverConfig, forKey: .serverConfig)
    }
}

/// A typed failure (docs/function-protocol.md, "Retries"): the stage's `retry` policy decides what happens with
/// it.
public struct FunctionError: Codable, Sendable, Equatable {
    public var type: String
    public var message: String?
    public var retryable: Bool?
    public var retryAfter: String?
    public init(type: String, message: String? = nil, retryable: Bool? = nil, retryAfter: String? = nil) {
        self.type = type; self.message = message; self.retryable = retryable; self.retryAfter = retryAfter
    }
}

/// The result a function reports as its last stdout line.
public struct FunctionResult: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case succeeded, failed, suspended, skipped, exited }
    public var status: Status
    public var message: String?
    public var resumeAt: String?
    /// "approval", or `{"callback": {"timeout": "1h"}}`.
    public var waitFor: JSONValue?
    public var retryable: Bool?
    public var error: FunctionError?

    public init(status: Status, message: String? = nil, resumeAt: String? = nil, waitFor: String? = nil,
                retryable: Bool? = nil, error: FunctionError? = nil) {
        self.status = status; self.message = message; self.resumeAt = resumeAt
        self.waitFor = waitFor.map { .string($0) }; self.retryable = retryable; self.error = error
    }

    /// What the stage waits for, as a name: "approval", "callback", ...
    public var waitingFor: String? {
        switch waitFor {
        case .string(let s)?: return s
        case .object(let o)? where o.count == 1: return o.keys.first
        default: return nil
        }
    }

    /// `waitFor.callback.timeout` in seconds, when the function waits for a callback.
    public var callbackTimeout: Double? {
        guard let text = waitFor?["callback"]?["timeout"]?.string else { return nil }
        return try? DurationText.seconds(text)
    }

    /// Whether the function says a retry may succeed (`error.retryable`, or the top-level `retryable` shorthand).
    public var saysRetryable: Bool { error?.retryable ?? retryable ?? false }
}

/// One stdout line of the protocol. Unknown keys are ignored so additions to the protocol stay compatible.
public enum FunctionMessage: Sendable, Equatable {
    /// `schema` names the checkpoint's format; nil means 1.
    case checkpoint(JSONValue, schema: Int? = nil)
    case output([String: String])
    case result(FunctionResult)
    case heartbeat

    public struct Malformed: Error, CustomStringConvertible {
        public let line: String
        public let why: String
        public var description: String { "malformed protocol line (\(why)): \(line.prefix(200))" }
    }

    /// Parses one stdout line.
    public static func parse(_ line: String) throws -> FunctionMessage {
        let value: JSONValue
        do { value = try JSONValue.decode(line) } catch { throw Malformed(line: line, why: "not JSON") }
        guard let obj = value.object else { throw Malformed(line: line, why: "not a JSON object") }
        if let cp = obj["checkpoint"] {
            let schema = obj["schema"]?.number.map { Int($0) }
            return .checkpoint(cp, schema: schema)
        }
        if let out = obj["output"] {
            guard let o = out.object else { throw Malformed(line: line, why: "output must be an object") }
            var strings: [String: String] = [:]
            for (k, v) in o { strings[k] = v.string ?? v.encoded() }
            return .output(strings)
        }
        if let r = obj["result"] {
            do {
                let data = Data(r.encoded().utf8)
                return .result(try JSONDecoder().decode(FunctionResult.self, from: data))
            } catch { throw Malformed(line: line, why: "result needs a status of succeeded|failed|suspended|skipped|exited") }
        }
        if obj["heartbeat"] != nil { return .heartbeat }
        throw Malformed(line: line, why: "expected checkpoint, output, result or heartbeat")
    }

    /// The line a function writes for this message.
    public func line() -> String {
        switch self {
        case .checkpoint(let v, let schema):
            var o: [String: JSONValue] = ["checkpoint": v]
            if let schema { o["schema"] = .number(Double(schema)) }
            return JSONValue.object(o).encoded()
        case .output(let o): return JSONValue.object(["output": .object(o.mapValues { .string($0) })]).encoded()
        case .heartbeat: return #"{"heartbeat":true}"#
        case .result(let r):
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = (try? String(decoding: enc.encode(r), as: UTF8.self)) ?? #"{"status":"failed"}"#
            return #"{"result":"# + body + "}"
        }
    }
}
