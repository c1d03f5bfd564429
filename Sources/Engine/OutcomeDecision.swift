import Foundation
import FunctionHost
import FunctionKit
import Store

/// What an invocation's outcome means for its stage: the status to store, the typed error, and whether a failure
/// is retried (docs/function-protocol.md, "Retries": the stage's `retry` decides, crash recoveries are not
/// retries).
struct OutcomeDecision {
    var status: StageStatus
    var errorType: String?
    var message: String
    var resumeAt: Date?
    var waitingFor: String?

    /// Host failures a new attempt may well get past; limits and protocol errors would only repeat.
    static let retryableHostErrors: Set<String> = ["Crashed", "DeadlineExceeded", "HeartbeatTimeout"]
    /// How long a stage waits for a callback when the function names no timeout.
    static let defaultCallbackTimeout: Double = 3600

    init(outcome: AttemptOutcome, stage: Stage, now: Date) {
        let r = outcome.result
        switch r.status {
        case .succeeded: status = .success
        case .failed: status = .failure
        case .suspended: status = .suspended
        case .skipped: status = .skipped
        case .exited: status = .exited
        }
        errorType = nil
        message = r.message ?? ""
        resumeAt = nil
        waitingFor = nil
        if outcome.errorType == "Cancelled" { status = .cancelled; return }
        if status == .failure {
            errorType = outcome.errorType ?? r.error?.type
            if message.isEmpty, let m = r.error?.message { message = m }
            if let type = errorType { message = "\(type): \(message)" }
            decideRetry(outcome: outcome, stage: stage, now: now)
            return
        }
        guard status == .suspended else { return }
        waitingFor = r.waitingFor
        resumeAt = r.resumeAt.flatMap(RFC3339.parse)
        if waitingFor == "callback" {
            resumeAt = now.addingTimeInterval(r.callbackTimeout ?? Self.defaultCallbackTimeout)
        }
        if resumeAt == nil && waitingFor == nil {
            status = .failure
            errorType = "ProtocolError"
            message = "ProtocolError: suspended without resumeAt or waitFor"
        }
    }

    private mutating func decideRetry(outcome: AttemptOutcome, stage: Stage, now: Date) {
        guard let policy = stage.retry else { return }
        let hostError = outcome.errorType
        var retryable = hostError.map { Self.retryableHostErrors.contains($0) } ?? outcome.result.saysRetryable
        if let type = errorType, policy.nonRetryable.contains(type) { retryable = false }
        // Attempts made for this stage, not counting re-invocations after a server crash.
        let tries = stage.attempt - stage.recoveries
        guard retryable, tries < policy.maxAttempts else { return }
        var delay = policy.backoff(afterAttempt: tries)
        if let after = outcome.result.error?.retryAfter.flatMap(RFC3339.parse) {
            delay = max(delay, after.timeIntervalSince(now))
        }
        message = "attempt \(tries) of \(policy.maxAttempts) failed, retrying in \(DurationText.format(delay)): \(message)"
        status = .suspended
        resumeAt = now.addingTimeInterval(delay)
        waitingFor = "retry"
    }
}
