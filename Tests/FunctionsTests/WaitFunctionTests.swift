import Foundation
import FunctionKit
import XCTest

final class WaitFunctionTests: XCTestCase {
    private let fn = "gantry-fn-wait"

    private func invoke(duration: String?, checkpoint: JSONValue? = nil, attempt: Int = 1) throws -> FunctionProcess.Run {
        let with: JSONValue = .object(duration.map { ["duration": .string($0)] } ?? [:])
        return try FunctionProcess.run(fn, event: TestEvent.make(stage: "WAIT", with: with, checkpoint: checkpoint,
                                                                 attempt: attempt))
    }

    func testFirstInvocationCheckpointsStartThenSuspendsUntilStartPlusDuration() throws {
        let before = Date()
        let run = try invoke(duration: "10s")
        XCTAssertEqual(run.exitCode, 0)
        XCTAssertEqual(run.messages.count, 2, "stdout: \(run.stdoutLines)")
        guard case .checkpoint(let checkpoint, _)? = run.messages.first else {
            return XCTFail("the first line must be the checkpoint: \(run.stdoutLines)")
        }
        let startedAt = try date(checkpoint["startedAt"]?.string)
        XCTAssertEqual(startedAt.timeIntervalSince(before), 0, accuracy: 2)
        let result = try XCTUnwrap(run.result)
        XCTAssertEqual(result.status, .suspended)
        let resumeAt = try date(result.resumeAt)
        XCTAssertEqual(resumeAt.timeIntervalSince(startedAt), 10, accuracy: 0.001)
        XCTAssertEqual(resumeAt.timeIntervalSince(Date()), 10, accuracy: 2)
        XCTAssertTrue(run.stderr.contains("waiting 10s (until "), "stderr: \(run.stderr)")
    }

    func testResumedInvocationCountsFromTheCheckpointedStart() throws {
        let checkpoint = TestEvent.startedAt(secondsAgo: 8)
        let start = try date(checkpoint["startedAt"]?.string)
        let run = try invoke(duration: "10s", checkpoint: checkpoint, attempt: 2)
        XCTAssertTrue(run.checkpoints.isEmpty, "a resumed wait must keep its original start: \(run.stdoutLines)")
        let result = try XCTUnwrap(run.result)
        XCTAssertEqual(result.status, .suspended)
        let resumeAt = try date(result.resumeAt)
        XCTAssertEqual(resumeAt.timeIntervalSince(start), 10, accuracy: 0.001, "resumeAt must be start + 10s")
        XCTAssertLessThan(resumeAt.timeIntervalSince(Date()), 3, "resumeAt must not be now + 10s")
    }

    func testWaitIsOverOnceTheDurationHasPassedSinceTheStart() throws {
        let run = try invoke(duration: "10s", checkpoint: TestEvent.startedAt(secondsAgo: 30))
        XCTAssertEqual(run.result, FunctionResult(status: .succeeded, message: "waited 10s"))
        XCTAssertTrue(run.checkpoints.isEmpty)
    }

    func testInvalidOrMissingDurationFailsWithAClearMessage() throws {
        let bad = try invoke(duration: "ten seconds")
        XCTAssertEqual(bad.exitCode, 0)
        XCTAssertEqual(bad.result?.status, .failed)
        XCTAssertTrue(bad.result?.message?.contains("invalid duration \"ten seconds\"") == true, "\(bad.stdoutLines)")
        XCTAssertTrue(bad.checkpoints.isEmpty, "nothing to checkpoint for a stage that cannot start")

        let missing = try invoke(duration: nil)
        XCTAssertEqual(missing.result?.status, .failed)
        XCTAssertTrue(missing.result?.message?.contains("with.duration") == true, "\(missing.stdoutLines)")
    }

    func testAnEventThatIsNotJSONFailsTheStageInsteadOfCrashing() throws {
        let process = Process()
        process.executableURL = try FunctionProcess.executable(fn)
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("{\"protocol\": 1, ".utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let line = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard case .result(let result) = try FunctionMessage.parse(line) else { return XCTFail("no result: \(line)") }
        XCTAssertEqual(result.status, .failed)
        XCTAssertEqual(result.message, "bad event on stdin: not valid JSON")
    }
}
