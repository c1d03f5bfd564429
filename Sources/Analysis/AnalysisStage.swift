import Foundation
import FunctionKit

/// One invocation of ANALYSIS. It holds no process between rounds: it runs the rounds that are due (one query or
/// request per check and round), checkpoints after each, and then succeeds (the duration passed and no check went
/// over its failureLimit), fails (one did), or suspends until the next round is due.
public enum AnalysisStage {
    public static func run(_ event: FunctionEvent, environment: [String: String]) -> FunctionResult {
        do { return try analyse(event, environment: environment) } catch {
            FunctionIO.log("error: \(error)")
            return .failure(error, classify: { _ in nil })
        }
    }

    static func analyse(_ event: FunctionEvent, environment: [String: String]) throws -> FunctionResult {
        let plan = try AnalysisPlan(event: event, environment: environment)
        var progress = try AnalysisProgress.resume(from: event.checkpoint, now: Date())
        let start = try progress.start
        let schedule = RoundSchedule(start: start, duration: plan.duration)
        func slots() -> [RoundSchedule.Slot] {
            plan.intervals.map { .init(id: $0.id, interval: $0.interval, done: progress.checks[$0.id] ?? .init()) }
        }
        if event.checkpoint?["startedAt"] == nil {
            FunctionIO.log("analysis for \(DurationText.format(plan.duration)): " + plan.intervals.map {
                "\($0.id) \(schedule.rounds(interval: $0.interval)) round(s) every \(DurationText.format($0.interval))"
            }.joined(separator: ", "))
        }
        // Later rounds may fall due while earlier ones run: look again until none is due.
        var wroteCheckpoint = false
        while true {
            let due = schedule.dueRounds(slots(), now: Date())
            if due.isEmpty { break }
            for (id, round) in due {
                let verdict = plan.runRound(id: id, round: round, schedule: schedule)
                var check = progress.checks[id] ?? .init()
                check.rounds = round
                if case .failed = verdict { check.failures += 1 }
                if case .finished = verdict { check.finished = true }
                progress.checks[id] = check
                let limit = plan.failureLimit(id)
                let total = schedule.rounds(interval: plan.interval(id))
                FunctionIO.log("round \(round)/\(total) \(id): \(verdict.word): \(verdict.detail) (failures \(check.failures), limit \(limit))")
                // Committed before the next round or the result: a re-invocation starts after this round.
                FunctionIO.checkpoint(progress.json)
                wroteCheckpoint = true
                if check.failures > limit {
                    let message = "\(id) failed \(check.failures) of \(round) rounds, more than its failureLimit \(limit): \(verdict.detail)"
                    return FunctionResult(status: .failed, message: message,
                                          error: FunctionError(type: "AnalysisFailed", message: message, retryable: false))
                }
            }
        }
        if !wroteCheckpoint { FunctionIO.checkpoint(progress.json) }
        if schedule.isComplete(slots(), now: Date()) {
            PreviousAnalyses(environment: environment).record(progress.startedAt, of: event.deployment.application)
            let summary = plan.intervals.map { "\($0.id) \(progress.checks[$0.id]?.failures ?? 0) failed" }.joined(separator: ", ")
            return FunctionResult(status: .succeeded,
                                  message: "analysed for \(DurationText.format(plan.duration)): no check exceeded its failureLimit (\(summary))")
        }
        let wake = schedule.nextWake(slots())
        return FunctionResult(status: .suspended, message: "analysing until \(RFC3339.format(schedule.end))",
                              resumeAt: RFC3339.format(wake))
    }
}
