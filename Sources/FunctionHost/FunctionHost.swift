import Foundation
import FunctionKit
#if canImport(Glibc)
import Glibc
#endif

/// Runs function invocations (docs/function-protocol.md): one process group per attempt under
/// `gantry-supervise`, a minimal environment, limits, deadline, output caps, and a report from wait4.
public final class FunctionHost: Sendable {
    public let supervisorPath: String
    public let registry: FunctionRegistry
    private let serverEnvironment: [String: String]
    /// Namespaces, hidden paths and the function user for every invocation; nil: functions run as the server.
    public let isolation: FunctionIsolation?

    public init(supervisorPath: String, registry: FunctionRegistry,
                serverEnvironment: [String: String] = ProcessInfo.processInfo.environment,
                isolation: FunctionIsolation? = nil) {
        self.supervisorPath = supervisorPath
        self.registry = registry
        self.serverEnvironment = serverEnvironment
        self.isolation = isolation
    }

    /// Blocking: run off the event loop. Calls `onStarted(F, startTicks)` once the group exists; `onMessage` for
    /// every checkpoint/output/heartbeat line in order, reading no further stdout until it returns (the caller
    /// commits checkpoints there); `onLog` with stderr lines and host warnings (batched), with
    /// `request.redactions` masked (in output values too). The result line is returned in the outcome (its messages
    /// masked too), not passed to `onMessage`.
    public func run(_ request: InvocationRequest, control: InvocationControl,
                    onStarted: (Int32, UInt64) -> Void, onMessage: (FunctionMessage) -> Void,
                    onLog: ([String]) -> Void) -> AttemptOutcome {
        let redactor = Redactor(values: request.redactions)
        var outcome = withoutActuallyEscaping(onLog) { onLog in
            withoutActuallyEscaping(onMessage) { onMessage in
                attempt(request, control: control, onStarted: onStarted,
                        // Outputs are shown by the API and handed to later stages: masked like the log.
                        onMessage: redactor.isEmpty ? onMessage : { message in
                            if case .output(let values) = message {
                                onMessage(.output(values.mapValues(redactor.redact)))
                            } else {
                                onMessage(message)
                            }
                        },
                        onLog: redactor.isEmpty ? onLog : { onLog(redactor.redact($0)) })
            }
        }
        if !redactor.isEmpty {
            outcome.result.message = outcome.result.message.map(redactor.redact)
            if var error = outcome.result.error {
                error.message = error.message.map(redactor.redact)
                outcome.result.error = error
            }
        }
        return outcome
    }

    private func attempt(_ request: InvocationRequest, control: InvocationControl,
                         onStarted: (Int32, UInt64) -> Void, onMessage: (FunctionMessage) -> Void,
                         onLog: @escaping ([String]) -> Void) -> AttemptOutcome {
        let spec = request.function
        let startedAt = Posix.monotonicNow()
        let allowed = min(spec.timeout, request.deadline.timeIntervalSinceNow)
        func refuse(_ type: String, _ message: String, limit: String? = nil) -> AttemptOutcome {
            AttemptOutcome(result: FunctionResult(status: .failed, message: message), errorType: type,
                           report: AttemptReport(limitHit: limit))
        }
        if let reason = control.stopReason { // nothing to stop yet: the same outcome, without a process
            var stopped = OutcomeClassifier.classify(AttemptFacts(stopReason: reason), spec: spec,
                                                     allowedSeconds: max(0, allowed))
            stopped.report = AttemptReport(limitHit: stopped.report.limitHit)
            return stopped
        }
        guard allowed > 0 else {
            return refuse("DeadlineExceeded", "its deadline \(RFC3339.format(request.deadline)) passed before it started",
                          limit: "deadline")
        }
        guard request.event.count <= ProtocolCaps.event else {
            return refuse("LimitExceeded", "the event is \(request.event.count) bytes, over the 1 MiB limit", limit: "event")
        }
        let program: String
        switch registry.resolveExecutable(spec) {
        case .success(let path): program = path
        case .failure(let error): return refuse(error.type, error.message)
        }
        if let problem = InvocationDirectory.prepare(request.directory) {
            return refuse("Crashed", problem)
        }
        if !request.secrets.isEmpty {
            if let problem = InvocationDirectory.writeSecrets(request.secrets, into: request.directory,
                                                              owner: isolation?.user) {
                return refuse("Crashed", problem)
            }
        }
        // The supervisor has killed the whole group before the attempt ends: nothing can read them any more.
        defer { if !request.secrets.isEmpty { InvocationDirectory.removeSecrets(request.directory) } }
        let (env, withheld) = environment(for: request)
        if !withheld.isEmpty {
            onLog(["warning: not passed to the function because their values hold a secret: \(withheld.joined(separator: ", "))"])
        }
        var launch = SupervisorLaunch(supervisorPath: supervisorPath, argv: [program] + spec.command.dropFirst(),
                                      directory: request.directory, limits: spec.limits, environment: env)
        switch prepareIsolation(request, program: program) {
        case .success(let plan):
            launch.isolation = plan.supervisor
            if !plan.warnings.isEmpty { onLog(plan.warnings) }
        case .failure(let error):
            return refuse(error.type, error.message)
        }
        let process: SupervisorProcess
        do { process = try SupervisorProcess.spawn(launch) } catch {
            return refuse("Crashed", String(describing: error))
        }
        defer { process.closeAll() }
        let facts = withoutActuallyEscaping(onStarted) { onStarted in
            withoutActuallyEscaping(onMessage) { onMessage in
                AttemptRunner(request: request, control: control, process: process, startedAt: startedAt,
                              deadlineAt: startedAt + allowed, onStarted: onStarted, onMessage: onMessage,
                              onLog: onLog).run()
            }
        }
        return OutcomeClassifier.classify(facts, spec: spec, allowedSeconds: allowed)
    }

    /// The same as `run`, on a dedicated thread (it blocks in poll), awaited.
    public func invoke(_ request: InvocationRequest, control: InvocationControl,
                       onStarted: @escaping @Sendable (Int32, UInt64) -> Void,
                       onMessage: @escaping @Sendable (FunctionMessage) -> Void,
                       onLog: @escaping @Sendable ([String]) -> Void) async -> AttemptOutcome {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: self.run(request, control: control, onStarted: onStarted,
                                                        onMessage: onMessage, onLog: onLog))
            }
            thread.name = "gantry-invocation-\(request.id)"
            thread.start()
        }
    }

    /// Crash recovery: SIGKILL group `group` if /proc/<group>/stat's start time equals `leaderStart`, or if the
    /// leader is gone but the group still exists (a pid cannot be reused while its group exists, so the group is
    /// still ours). Returns true if something was signalled.
    public static func killLeftoverGroup(_ group: Int32, leaderStart: UInt64) -> Bool {
        guard group > 1 else { return false }
        if let leader = ProcStat.read(group) {
            guard leader.startTicks == leaderStart else { return false } // the pid is someone else's now
            if kill(-group, SIGKILL) == 0 { return true }
            return kill(group, SIGKILL) == 0 // our leader left its group (setpgid): still ours to kill
        }
        // Zombies (not yet reaped by init) do not count: only a live member is a leftover.
        guard !ProcStat.livingMembers(ofGroup: group).isEmpty else { return false }
        return kill(-group, SIGKILL) == 0
    }

    /// Removes an invocation directory, including a `.secrets` folder left read-only by an attempt that was cut
    /// off by a server crash (FileManager alone cannot unlink files in a 0500 folder as a non-root user).
    public static func removeInvocationDirectory(_ dir: String) {
        InvocationDirectory.removeSecrets(dir)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// PATH, HOME (= the invocation dir), LANG, TMPDIR, GANTRY_CONTROL, GANTRY_SECRETS (with secrets), the
    /// caller's GANTRY_* variables and the function's declared `env` names from the server's environment.
    /// Nothing else of the server leaks in, and no variable whose value contains a secret: those are returned
    /// as `withheld` instead.
    func environment(for request: InvocationRequest) -> (env: [String], withheld: [String]) {
        var env: [String: String] = [
            "PATH": serverEnvironment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "LANG": serverEnvironment["LANG"] ?? "C.UTF-8",
        ]
        for name in request.function.env { if let value = serverEnvironment[name] { env[name] = value } }
        for (name, value) in request.environment { env[name] = value }
        env["HOME"] = request.directory
        env["TMPDIR"] = InvocationDirectory.tmp(request.directory)
        env["GANTRY_CONTROL"] = InvocationDirectory.control(request.directory)
        var withheld: [String] = []
        if !request.secrets.isEmpty {
            let values = request.secrets.values.filter { !$0.isEmpty }
            for (name, value) in env where values.contains(where: { value.contains($0) }) {
                env[name] = nil
                withheld.append(name)
            }
            env["GANTRY_SECRETS"] = InvocationDirectory.secrets(request.directory)
        }
        return (env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }, withheld.sorted())
    }
}

/// The fresh working directory of one attempt.
enum InvocationDirectory {
    static func tmp(_ dir: String) -> String { (dir as NSString).appendingPathComponent("tmp") }
    static func control(_ dir: String) -> String { (dir as NSString).appendingPathComponent(".control") }

    /// Creates `dir` (and its parents) with `tmp/` and `.control/` inside; nil on success, else the problem.
    /// An existing empty directory is accepted; a non-empty one is refused, so no attempt sees another's files.
    static func prepare(_ dir: String) -> String? {
        let fm = FileManager.default
        guard dir.hasPrefix("/") else { return "invocation directory \(dir) is not an absolute path" }
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { return "invocation directory \(dir) exists and is not a directory" }
            let entries = (try? fm.contentsOfDirectory(atPath: dir)) ?? ["?"]
            guard entries.isEmpty else { return "invocation directory \(dir) already exists and is not empty" }
        }
        do {
            for path in [dir, tmp(dir), control(dir)] {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true,
                                       attributes: [.posixPermissions: 0o700])
            }
        } catch {
            return "cannot create invocation directory \(dir): \(error.localizedDescription)"
        }
        return nil
    }
}
