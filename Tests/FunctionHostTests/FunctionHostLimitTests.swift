import Foundation
import FunctionKit
import XCTest
@testable import FunctionHost

/// Memory, CPU and output caps: the function fails with a clear type and message, the host stays healthy.
final class FunctionHostLimitTests: XCTestCase {
    func testAllocatingBeyondTheMemoryLimitIsMemoryLimit() throws {
        let box = try FunctionSandbox()
        // bash doubles a string until its allocation fails against RLIMIT_AS.
        let spec = try box.scriptFunction("hungry", script: """
            x=a
            for i in $(seq 1 40); do x="$x$x"; done
            echo "survived with ${#x} bytes"
            """, extraYAML: "limits: {memory: 64Mi}")
        let recorder = Recorder()
        let outcome = try box.host().run(box.request(spec), recorder: recorder)
        XCTAssertEqual(outcome.result.status, .failed)
        XCTAssertEqual(outcome.errorType, "MemoryLimit", "\(outcome.result.message ?? "") \(recorder.logs)")
        XCTAssertTrue(outcome.result.message?.hasPrefix("memory limit 64Mi exceeded") == true, outcome.result.message ?? "")
        XCTAssertEqual(outcome.report.limitHit, "memory")
        XCTAssertLessThanOrEqual(outcome.report.maxRssKiB, 64 * 1024)
    }

    func testBurningCpuBeyondTheLimitIsCpuLimit() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("spinner", script: "while :; do :; done", extraYAML: "limits: {cpuSeconds: 1}")
        let begin = Date()
        let outcome = try box.host().run(box.request(spec), recorder: Recorder())
        XCTAssertEqual(outcome.errorType, "CpuLimit")
        XCTAssertEqual(outcome.result.message, "cpu limit 1s exceeded")
        XCTAssertEqual(outcome.report.limitHit, "cpu")
        XCTAssertGreaterThanOrEqual(outcome.report.cpuMs, 900)
        XCTAssertLessThan(Date().timeIntervalSince(begin), 10)
    }

    func testOpenFilesLimitApplies() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("fdlimit", script: "ulimit -n >&2", extraYAML: "limits: {openFiles: 32}")
        let recorder = Recorder()
        _ = try box.host().run(box.request(spec), recorder: recorder)
        XCTAssertEqual(recorder.logs, ["32"])
    }

    func testAStdoutFloodIsCutOffAndTheHostStaysSmall() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("flood", script: "yes | head -c 100000000")
        let recorder = Recorder(keepLogs: 1000)
        let rssBefore = peakRSSKiB()
        let begin = Date()
        let outcome = try box.host().run(box.request(spec), recorder: recorder)
        XCTAssertEqual(outcome.errorType, "OutputLimit")
        XCTAssertTrue(outcome.result.message?.contains("stdout exceeded the 16 MiB limit") == true, outcome.result.message ?? "")
        XCTAssertEqual(outcome.report.limitHit, "output")
        XCTAssertLessThan(Date().timeIntervalSince(begin), 10)
        XCTAssertLessThan(peakRSSKiB() - rssBefore, 32 * 1024, "the host must not buffer the flood")
        XCTAssertLessThanOrEqual(recorder.logCount, OutputCaps.maxMalformedWarnings + 1, "malformed-line warnings are capped")
    }

    func testOneHugeStdoutLineIsCutOff() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("longline", script: "head -c 5000000 /dev/zero | tr '\\0' '{'")
        let outcome = try box.host().run(box.request(spec), recorder: Recorder())
        XCTAssertEqual(outcome.errorType, "LimitExceeded", "one line over 1 MiB is a protocol cap, not the volume cap")
        XCTAssertTrue(outcome.result.message?.contains("stdout line exceeded the 1 MiB limit") == true, outcome.result.message ?? "")
        XCTAssertEqual(outcome.report.limitHit, "stdoutLine")
    }

    func testAStderrFloodIsTruncatedWithAMarkerAndFailsLimitExceeded() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("noisy", script: "yes 'log line' | head -c 100000000 >&2")
        let recorder = Recorder(keepLogs: 10)
        let rssBefore = peakRSSKiB()
        let begin = Date()
        let outcome = try box.host().run(box.request(spec), recorder: recorder)
        XCTAssertEqual(outcome.errorType, "LimitExceeded")
        XCTAssertTrue(outcome.result.message?.contains("stderr exceeded the 10 MiB limit") == true, outcome.result.message ?? "")
        XCTAssertEqual(outcome.report.limitHit, "stderr")
        XCTAssertLessThan(Date().timeIntervalSince(begin), 10)
        XCTAssertLessThan(peakRSSKiB() - rssBefore, 32 * 1024)
        // Exactly the first 10 MiB arrive: 1,165,084 whole "log line\n" lines, the cut "log " (counted with
        // a newline by logBytes), then the marker as the very last line.
        XCTAssertEqual(recorder.lastLog, ProtocolCaps.stderrTruncatedMarker)
        XCTAssertEqual(recorder.logBytes, (10 << 20) + 1 + ProtocolCaps.stderrTruncatedMarker.utf8.count + 1)
        XCTAssertEqual(recorder.logCount, 1_165_084 + 2)
    }
}
