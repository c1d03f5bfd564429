import Foundation
import FunctionKit
import XCTest
@testable import FunctionHost

/// `gantry fn invoke`, the built binary, on the built-in WAIT function and on a function from a config's
/// functions.paths: the same host code as the engine, messages on stdout, the outcome as the last line.
final class FunctionInvokeCLITests: XCTestCase {
    /// The package's source tree (for the built-in functions/ folder).
    private static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    private static let waitEvent = """
        {"protocol": 1,
         "invocation": {"id": "inv-1", "key": "key-1", "attempt": 1},
         "deployment": {"id": "d-1", "application": "demo", "commit": "abc", "runningCommit": null,
                        "trigger": {"kind": "push", "commitMessage": "m", "author": "a"}},
         "stage": {"index": 0, "name": "WAIT", "with": {"duration": "1h"}, "rollback": false},
         "checkpoint": null, "sources": {"target": "/tmp", "running": null}, "platform": {}, "approvals": []}
        """

    func testWaitSuspendsWithACheckpointThenSucceedsFromAnOldCheckpoint() throws {
        let box = try FunctionSandbox()
        let event = box.root + "/event.json"
        try Self.waitEvent.write(toFile: event, atomically: true, encoding: .utf8)

        let first = try runGantry(["fn", "invoke", "wait", "--event", event])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.lines.count, 2, first.stdout)
        let checkpoint = try FunctionMessage.parse(first.lines[0])
        guard case .checkpoint(let value, _) = checkpoint, let started = value["startedAt"]?.string.flatMap(RFC3339.parse) else {
            return XCTFail("first line is not the start-time checkpoint: \(first.lines[0])")
        }
        XCTAssertLessThan(abs(started.timeIntervalSinceNow), 60)
        let outcome = try JSONValue.decode(first.lines[1])
        XCTAssertEqual(outcome["result"]?["status"]?.string, "suspended")
        XCTAssertEqual(outcome["errorType"], .null)
        XCTAssertEqual(outcome["report"]?["exitCode"]?.number, 0)
        XCTAssertNotNil(outcome["report"]?["cpuMs"]?.number)
        XCTAssertTrue(first.stderr.contains("waiting 1h"), first.stderr)

        // By stage name, resumed from a checkpoint two hours old: the wait is over.
        let old = box.root + "/checkpoint.json"
        try #"{"startedAt": "\#(RFC3339.format(Date().addingTimeInterval(-7200)))"}"#
            .write(toFile: old, atomically: true, encoding: .utf8)
        let second = try runGantry(["fn", "invoke", "WAIT", "--event", event, "--checkpoint", old])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(second.lines.count, 1, "no new checkpoint: \(second.stdout)")
        let done = try JSONValue.decode(second.lines[0])
        XCTAssertEqual(done["result"]?["status"]?.string, "succeeded")
        XCTAssertEqual(done["result"]?["message"]?.string, "waited 1h")
    }

    func testAFailedFunctionExitsOneAndConfigFunctionsAreFound() throws {
        let box = try FunctionSandbox()
        try box.addFunction("echo-event", yaml: "stages: [ECHO]\ncommand: [./run.sh]\ntimeout: 2m\n", script: """
            cat >&2
            echo '{"output": {"k": "v"}}'
            echo '{"result": {"status": "failed", "message": "as asked", "error": {"type": "Asked"}}}'
            exit 1
            """)
        let config = box.root + "/gantry.yaml"
        try "server: {listen: \"127.0.0.1:8080\", dataDir: ./data}\nfunctions:\n  paths: [./functions]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let event = box.root + "/event.json"
        try #"{"stage": {"name": "ECHO"}}"#.write(toFile: event, atomically: true, encoding: .utf8)

        let run = try runGantry(["fn", "invoke", "ECHO", "--event", event, "--config", config])
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertEqual(run.lines.first, #"{"output":{"k":"v"}}"#)
        let outcome = try JSONValue.decode(try XCTUnwrap(run.lines.last))
        XCTAssertEqual(outcome["result"]?["message"]?.string, "as asked")
        XCTAssertEqual(outcome["result"]?["error"]?["type"]?.string, "Asked")
        XCTAssertEqual(outcome["report"]?["exitCode"]?.number, 1)

        // The function saw the engine's fields filled in: deadline = now + its 2 min timeout, its version.
        let sent = try JSONValue.decode(try XCTUnwrap(run.stderr.split(separator: "\n").first.map(String.init)))
        let deadline = try XCTUnwrap(sent["invocation"]?["deadline"]?.string.flatMap(RFC3339.parse))
        XCTAssertEqual(deadline.timeIntervalSinceNow, 120, accuracy: 30)
        XCTAssertEqual(sent["function"]?["name"]?.string, "echo-event")
        XCTAssertEqual(sent["function"]?["version"]?.string?.count, 64)
        XCTAssertEqual(sent["invocation"]?["attempt"]?.number, 1)

        let unknown = try runGantry(["fn", "invoke", "NO_SUCH_STAGE", "--event", event, "--config", config])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no function named NO_SUCH_STAGE"), unknown.stderr)
    }

    private struct Run { var status: Int32; var stdout: String; var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// Runs the built `gantry` beside the test bundle (skips, like the supervisor tests, when it is not built).
    private func runGantry(_ arguments: [String]) throws -> Run {
        guard let supervisor = SupervisorBinary.path else { throw XCTSkip("gantry-supervise is not built") }
        let gantry = (supervisor as NSString).deletingLastPathComponent + "/gantry"
        guard FileManager.default.isExecutableFile(atPath: gantry) else { throw XCTSkip("gantry is not built at \(gantry)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gantry)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin",
                               "GANTRY_BUILTIN_FUNCTIONS": Self.packageRoot + "/functions"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes drained concurrently so neither can fill up and stall the child.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertTrue(waitUntil(10) { reader.isFinished })
        return Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self))
    }
}
