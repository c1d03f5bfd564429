// WAIT: pause the pipeline for `with.duration` without holding a process.
//
// The first invocation checkpoints its start time and suspends until start + duration; the engine wakes the
// stage at resumeAt. Every later invocation computes the end from the checkpointed start, so after a server
// crash the wait counts from the original start, never duration + downtime.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FunctionKit

FunctionIO.main { event in
    let duration = try event.withDuration("duration")
    let startedAt = try event.checkpointedStartTime()
    let until = startedAt.addingTimeInterval(duration)
    let remaining = until.timeIntervalSince(Date())
    if remaining <= 0 {
        return FunctionResult(status: .succeeded, message: "waited \(DurationText.format(duration))")
    }
    let untilText = RFC3339.format(until)
    FunctionIO.log("waiting \(DurationText.format(duration)) (until \(untilText), \(DurationText.format(remaining)) left)")
    return FunctionResult(status: .suspended, message: "waiting until \(untilText)", resumeAt: untilText)
}
