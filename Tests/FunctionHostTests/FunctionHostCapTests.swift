import Foundation
import FunctionKit
import XCTest
@testable import FunctionHost

/// The protocol's size caps (docs/function-protocol.md, "Size caps"): over one, the attempt fails `LimitExceeded`
/// naming the cap, the function's group is killed at once, and nothing over the cap reaches the caller (which would
/// store it).
final class FunctionHostCapTests: XCTestCase {
    func testAnEventOverOneMebibyteFailsBeforeAnythingIsSpawned() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("reader", script: "cat > /dev/null")
        let host = try box.host()
        let recorder = Recorder()
        let tooBig = box.request(spec, event: String(repeating: "x", count: ProtocolCaps.event + 1))
        let outcome = host.run(tooBig, recorder: recorder)
        XCTAssertEqual(outcome.errorType, "LimitExceeded")
        XCTAssertEqual(outcome.result.message, "the event is 1048577 bytes, over the 1 MiB limit")
        XCTAssertEqual(outcome.report.limitHit, "event")
        XCTAssertNil(recorder.started, "no process may start")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tooBig.directory), "not even a directory is made")

        let exactly = host.run(box.request(spec, event: String(repeating: "x", count: ProtocolCaps.event)), recorder: Recorder())
        XCTAssertEqual(exactly.result.status, .succeeded, "1 MiB itself is allowed: \(exactly.result.message ?? "")")
    }

    func testAnOversizedCheckpointKillsTheFunctionAndIsNeverDelivered() throws {
        let box = try FunctionSandbox()
        // 200,000 bytes pass; 300,000 (over 256 KiB) end the attempt; the sleep and the output never happen.
        let spec = try box.scriptFunction("bigstate", script: """
            printf '{"checkpoint": "%s"}\\n' "$(head -c 200000 /dev/zero | tr '\\0' a)"
            printf '{"checkpoint": "%s"}\\n' "$(head -c 300000 /dev/zero | tr '\\0' b)"
            sleep 30
            echo '{"output": {"after": "cap"}}'
            """)
        let recorder = Recorder()
        let begin = Date()
        let outcome = try box.host().run(box.request(spec), recorder: recorder)
        XCTAssertEqual(outcome.errorType, "LimitExceeded")
        XCTAssertEqual(outcome.result.message, "a checkpoint of 300002 bytes exceeded the 256 KiB limit; the function was killed")
        XCTAssertEqual(outcome.report.limitHit, "checkpoint")
        XCTAssertEqual(recorder.messages, [.checkpoint(.string(String(repeating: "a", count: 200_000)))])
        XCTAssertLessThan(Date().timeIntervalSince(begin), 10, "killed, not left to sleep")
        let group = try XCTUnwrap(recorder.started).group
        XCTAssertTrue(waitUntil(5) { groupMembers(group).isEmpty })
    }

    func testOutputsOverSixtyFourKibibytesInAllFailTheAttempt() throws {
        let box = try FunctionSandbox()
        // Each message encodes as {"kN":"<10,000 x>"}: 10,009 bytes; the seventh brings the sum over 64 KiB.
        let spec = try box.scriptFunction("chatty", script: """
            value=$(head -c 10000 /dev/zero | tr '\\0' x)
            for i in 1 2 3 4 5 6 7 8 9; do printf '{"output": {"k%s": "%s"}}\\n' $i "$value"; done
            sleep 30
            """)
        let recorder = Recorder()
        let begin = Date()
        let outcome = try box.host().run(box.request(spec), recorder: recorder)
        XCTAssertEqual(outcome.errorType, "LimitExceeded")
        XCTAssertEqual(outcome.result.message,
                       "outputs exceeded the 64 KiB limit per attempt (70063 bytes in all); the function was killed")
        XCTAssertEqual(outcome.report.limitHit, "outputs")
        XCTAssertEqual(recorder.messages.count, 6)
        XCTAssertEqual(recorder.messages.last, .output(["k6": String(repeating: "x", count: 10_000)]))
        XCTAssertLessThan(Date().timeIntervalSince(begin), 10)
    }

    func testHeartbeatsAndSmallMessagesStayUnderTheCaps() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("modest", script: """
            for i in $(seq 1 200); do echo '{"heartbeat": true}'; echo "{\\"checkpoint\\": {\\"i\\": $i}}"; done
            echo '{"output": {"done": "yes"}}'
            """)
        let recorder = Recorder()
        let outcome = try box.host().run(box.request(spec), recorder: recorder)
        XCTAssertEqual(outcome.result.status, .succeeded, outcome.result.message ?? "")
        XCTAssertNil(outcome.errorType)
        XCTAssertEqual(recorder.messages.count, 401)
    }
}
