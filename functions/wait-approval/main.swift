// WAIT_APPROVAL: hold the pipeline until enough people approve, or fail after `with.timeout`.
//
// No process waits: each invocation counts the approvals in the event and either finishes or suspends again
// (waitFor "approval", so an approval wakes it; resumeAt the timeout, so the timer fails it). The start is
// checkpointed on the first invocation, so the timeout counts from the original start across restarts.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FunctionKit

FunctionIO.main { event in
    let policy = try ApprovalPolicy(event)
    let startedAt = try event.checkpointedStartTime()
    let approvedBy = policy.countedApprovers(event.approvals)
    if approvedBy.count >= policy.minApprovers {
        return FunctionResult(status: .succeeded, message: "approved by \(approvedBy.joined(separator: ", "))")
    }
    let timeoutText = DurationText.format(policy.timeout)
    let deadline = startedAt.addingTimeInterval(policy.timeout)
    if Date() >= deadline {
        return FunctionResult(status: .failed, message:
            "no approval within \(timeoutText) (\(approvedBy.count) of \(policy.minApprovers) approvals)")
    }
    let missing = policy.minApprovers - approvedBy.count
    let from = policy.approvers.isEmpty
        ? "anyone"
        : policy.approvers.filter { !approvedBy.contains($0) }.joined(separator: ", ")
    let message = "waiting for \(missing) more approval\(missing == 1 ? "" : "s") (from: \(from))"
    let deadlineText = RFC3339.format(deadline)
    FunctionIO.log(message + ", until \(deadlineText)")
    return FunctionResult(status: .suspended, message: message, resumeAt: deadlineText, waitFor: "approval")
}
