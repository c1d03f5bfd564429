import Foundation
import FunctionKit
#if canImport(Glibc)
import Glibc
#endif

/// Turns what an attempt produced into the protocol's outcome: status, message, error type, attempt report.
enum OutcomeClassifier {
    /// Stderr phrases with which runtimes report a failed allocation (RLIMIT_AS makes allocations fail).
    static let memoryPhrases = ["cannot allocate", "out of memory", "memoryerror", "bad_alloc", "memory exhausted",
                                "failed to allocate", "allocation failed"]

    static func classify(_ facts: AttemptFacts, spec: FunctionSpec, allowedSeconds: Double) -> AttemptOutcome {
        var report = AttemptReport(wallMs: facts.ownWallMs, signal: SIGKILL)
        if let r = facts.report {
            report = AttemptReport(wallMs: r.wallMs, cpuMs: r.cpuMs, maxRssKiB: r.maxRssKiB, exitCode: r.exitCode, signal: r.signal)
        }
        func failed(_ type: String?, _ message: String, limit: String? = nil) -> AttemptOutcome {
            report.limitHit = limit
            return AttemptOutcome(result: FunctionResult(status: .failed, message: message), errorType: type, report: report)
        }
        func stoppedOutcome(_ reason: StopReason) -> AttemptOutcome {
            switch reason {
            case .cancel: return failed("Cancelled", "cancelled")
            case .shutdown: return failed("Cancelled", "stopped because the server is shutting down")
            case .deadline:
                return failed("DeadlineExceeded", "exceeded its deadline of \(DurationText.format(allowedSeconds))", limit: "deadline")
            case .heartbeat:
                let hb = DurationText.format(spec.heartbeatTimeout ?? 0)
                return failed("HeartbeatTimeout", "no message on stdout for \(hb) (heartbeatTimeout)", limit: "heartbeat")
            }
        }
        let lastLine = facts.stderrTail.last.map { ": \($0)" } ?? ""

        if let error = facts.supervisorError {
            return failed("Crashed", "could not run the function: \(error)")
        }
        // Before stops and caps: whatever else happened, the function itself never ran.
        if let error = facts.isolationError {
            return failed("IsolationFailed", "the function was not run: its isolation could not be set up: \(error)")
        }
        if let cap = facts.capExceeded {
            return failed(cap.type, "\(cap.message); the function was killed", limit: cap.limit)
        }
        if let reason = facts.stopReason, !facts.resultBeforeStop {
            var stopped = stoppedOutcome(reason)
            stopped.stopReason = reason
            return stopped
        }
        guard let r = facts.report else {
            return failed("Crashed", "the supervisor died before the function finished")
        }
        if let cpu = spec.limits.cpuSeconds,
           r.signal == SIGXCPU || (r.signal == SIGKILL && r.cpuMs + 100 >= Int(cpu) * 1000) {
            return failed("CpuLimit", "cpu limit \(cpu)s exceeded", limit: "cpu")
        }
        if r.exitCode == 0 {
            if let result = facts.result {
                return AttemptOutcome(result: result, errorType: nil, report: report)
            }
            return AttemptOutcome(result: FunctionResult(status: .succeeded), errorType: nil, report: report)
        }
        if let memory = spec.limits.memoryBytes, ranOutOfMemory(r, limit: memory, stderrTail: facts.stderrTail) {
            return failed("MemoryLimit", "memory limit \(ByteSize.format(memory)) exceeded\(lastLine)", limit: "memory")
        }
        if let signal = r.signal {
            return failed("Crashed", "killed by signal \(signal) (\(Posix.signalName(signal)))\(lastLine)")
        }
        let code = r.exitCode ?? -1
        if let result = facts.result {
            // A failed result with a non-zero exit is the usual way to fail; anything else contradicts the exit.
            if result.status == .failed { return AttemptOutcome(result: result, errorType: nil, report: report) }
            return failed("ProtocolError", "reported \(result.status.rawValue) but exited with status \(code)\(lastLine)")
        }
        return failed(nil, "exited with status \(code)\(lastLine)")
    }

    /// With RLIMIT_AS an allocation fails instead of the kernel killing the process, so look for its traces:
    /// a peak RSS near the limit, or a runtime's out-of-memory message on stderr.
    static func ranOutOfMemory(_ r: SupervisorReport, limit: UInt64, stderrTail: [String]) -> Bool {
        if UInt64(max(0, r.maxRssKiB)) * 1024 >= limit / 10 * 9 { return true }
        let tail = stderrTail.suffix(5).joined(separator: "\n").lowercased()
        return memoryPhrases.contains { tail.contains($0) }
    }
}
