import Foundation
import FunctionKit
import XCTest
@testable import FunctionHost

/// Deadline, cancel, heartbeat and grace: the host stops the whole group, in order, and says why.
final class FunctionHostStopTests: XCTestCase {
    func testDeadlineStopsTheWholeGroupWithinTheGracePeriod() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("sleeper", script: "sleep 1000 &\nsleep 1000")
        let recorder = Recorder()
        let begin = Date()
        let outcome = try box.host().run(box.request(spec, seconds: 1), recorder: recorder)
        let elapsed = Date().timeIntervalSince(begin)

        XCTAssertEqual(outcome.result.status, .failed)
        XCTAssertEqual(outcome.errorType, "DeadlineExceeded")
        XCTAssertEqual(outcome.stopReason, .deadline)
        XCTAssertEqual(outcome.result.message, "exceeded its deadline of 1s")
        XCTAssertEqual(outcome.report.limitHit, "deadline")
        XCTAssertEqual(outcome.report.signal, 15, "SIGTERM was enough; no need to wait for the 10 s grace")
        XCTAssertGreaterThanOrEqual(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 5)
        let group = try XCTUnwrap(recorder.started?.group)
        XCTAssertTrue(waitUntil(5) { groupMembers(group).isEmpty }, "left behind: \(groupMembers(group))")
    }

    func testAFunctionIgnoringTermIsKilledAfterItsGracePeriod() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("stubborn", script: """
            trap 'echo "got TERM, reason $(cat "$GANTRY_CONTROL/stop")" >&2' TERM
            echo '{"heartbeat": true}'
            while true; do sleep 0.2; done
            """, extraYAML: "gracePeriod: 1s")
        let recorder = Recorder()
        let begin = Date()
        let outcome = try box.host().run(box.request(spec, seconds: 1), recorder: recorder)
        let elapsed = Date().timeIntervalSince(begin)

        XCTAssertEqual(outcome.errorType, "DeadlineExceeded")
        XCTAssertEqual(outcome.report.signal, 9)
        XCTAssertGreaterThanOrEqual(elapsed, 1.9, "SIGKILL must wait for the grace period")
        XCTAssertLessThan(elapsed, 6)
        XCTAssertTrue(recorder.logs.contains(#"got TERM, reason {"reason":"deadline"}"#), "\(recorder.logs)")
    }

    func testCancelWritesTheReasonBeforeSigterm() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("cancellable", script: """
            trap 'echo "stop file: $(cat "$GANTRY_CONTROL/stop")" >&2; echo "{\\"checkpoint\\": \\"last\\"}"; exit 0' TERM
            echo '{"heartbeat": true}'
            sleep 1000 &
            wait
            """)
        let host = try box.host()
        let control = InvocationControl()
        let recorder = Recorder()
        let begin = Date()
        let outcome = host.run(box.request(spec), control: control, onStarted: recorder.onStarted,
            onMessage: { message in
                recorder.onMessage(message)
                // Stop from another thread, as the engine would on an API call.
                if message == .heartbeat { Thread { control.stop(.cancel) }.start() }
            }, onLog: recorder.onLog)

        XCTAssertEqual(outcome.result.status, .failed)
        XCTAssertEqual(outcome.errorType, "Cancelled")
        XCTAssertEqual(outcome.stopReason, .cancel)
        XCTAssertEqual(outcome.result.message, "cancelled")
        XCTAssertLessThan(Date().timeIntervalSince(begin), 5)
        XCTAssertTrue(recorder.logs.contains(#"stop file: {"reason":"cancel"}"#), "\(recorder.logs)")
        XCTAssertEqual(recorder.messages, [.heartbeat, .checkpoint(.string("last"))], "a last checkpoint is still delivered")
        XCTAssertEqual(control.stopReason, .cancel)
    }

    func testShutdownIsReportedWithItsReason() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("shut", script: "echo '{\"heartbeat\": true}'\nsleep 1000")
        let control = InvocationControl()
        let outcome = try box.host().run(box.request(spec), control: control, onStarted: { _, _ in },
                                         onMessage: { _ in control.stop(.shutdown) }, onLog: { _ in })
        XCTAssertEqual(outcome.errorType, "Cancelled")
        XCTAssertEqual(outcome.stopReason, .shutdown)
        XCTAssertTrue(outcome.result.message?.contains("shutting down") == true, outcome.result.message ?? "")
    }

    func testASilentFunctionMissesItsHeartbeat() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("silent", script: "echo '{\"heartbeat\": true}'\nsleep 1000",
                                          extraYAML: "heartbeatTimeout: 1s")
        let begin = Date()
        let outcome = try box.host().run(box.request(spec), recorder: Recorder())
        XCTAssertEqual(outcome.errorType, "HeartbeatTimeout")
        XCTAssertEqual(outcome.stopReason, .heartbeat)
        XCTAssertEqual(outcome.report.limitHit, "heartbeat")
        XCTAssertLessThan(Date().timeIntervalSince(begin), 5)
    }

    func testAStopRequestedBeforeTheStartRunsNothing() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("never", script: "touch \"$HOME/ran\"")
        let control = InvocationControl()
        control.stop(.cancel)
        let request = box.request(spec)
        let outcome = try box.host().run(request, control: control, recorder: Recorder())
        XCTAssertEqual(outcome.errorType, "Cancelled")
        XCTAssertEqual(outcome.stopReason, .cancel)
        XCTAssertEqual(outcome.result.message, "cancelled")
        XCTAssertFalse(FileManager.default.fileExists(atPath: request.directory + "/ran"))
    }
}
