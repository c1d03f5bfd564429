import Foundation
import FunctionKit
import XCTest

/// The analysis function as the host runs it, resumed from a checkpoint as after a crash of the server: it runs
/// only the rounds after the checkpoint, checkpoints each before going on, and writes its result last. The HTTP
/// check asks a port nobody listens on, so every round fails the same way, without a server to set up.
final class AnalysisFunctionTests: XCTestCase {
    private func invoke(failureLimit: Int, roundsDone: Int, startedSecondsAgo: Double) throws -> (FunctionProcess.Run, Date) {
        let start = Date().addingTimeInterval(-startedSecondsAgo)
        let startedAt = RFC3339.format(start)
        let with: JSONValue = .object([
            "duration": .string("10s"),
            "http": .array([.object(["url": .string("http://127.0.0.1:1/health"), "interval": .string("1s"),
                                     "failureLimit": .number(Double(failureLimit))])]),
        ])
        let checkpoint: JSONValue = .object(["startedAt": .string(startedAt), "checks": .object([
            "http[0]": .object(["rounds": .number(Double(roundsDone)), "failures": .number(Double(roundsDone))])])])
        let run = try FunctionProcess.run("gantry-fn-analysis", event: TestEvent.make(stage: "ANALYSIS", with: with,
                                                                                      checkpoint: checkpoint, attempt: 2))
        return (run, try date(startedAt))
    }

    private func rounds(_ run: FunctionProcess.Run) -> [Double] {
        run.checkpoints.compactMap { $0["checks"]?["http[0]"]?["rounds"]?.number }
    }

    func testAResumedStageRunsTheRoundsAfterItsCheckpointAndSuspendsUntilTheNext() throws {
        let (run, start) = try invoke(failureLimit: 9, roundsDone: 2, startedSecondsAgo: 4.5)
        XCTAssertEqual(rounds(run), [3, 4], "rounds 1 and 2 are not run again: \(run.stdoutLines)")
        XCTAssertEqual(run.checkpoints.last?["checks"]?["http[0]"]?["failures"]?.number, 4)
        XCTAssertEqual(run.checkpoints.last?["startedAt"]?.string, RFC3339.format(start), "the start never moves")
        XCTAssertTrue(run.stderr.contains("round 3/10 http[0]: FAILED: "), run.stderr)
        let result = try XCTUnwrap(run.result)
        XCTAssertEqual(result.status, .suspended)
        XCTAssertEqual(try date(result.resumeAt).timeIntervalSince(start), 5, accuracy: 0.002, "the fifth round is next")
    }

    func testTheRoundThatExceedsTheLimitIsCheckpointedBeforeTheFailure() throws {
        let (run, _) = try invoke(failureLimit: 3, roundsDone: 2, startedSecondsAgo: 6.5)
        XCTAssertEqual(rounds(run), [3, 4], "no round after the one that failed the stage: \(run.stdoutLines)")
        let result = try XCTUnwrap(run.result)
        XCTAssertEqual(result.status, .failed)
        XCTAssertEqual(result.error?.type, "AnalysisFailed")
        XCTAssertTrue(result.message?.contains("http[0] failed 4 of 4 rounds, more than its failureLimit 3") == true, "\(result)")
        guard case .result? = run.messages.last, case .checkpoint? = run.messages.dropLast().last else {
            return XCTFail("the checkpoint must come right before the result: \(run.stdoutLines)")
        }
    }
}
