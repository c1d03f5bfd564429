import Foundation
import FunctionKit
import XCTest
@testable import FunctionHost

/// Real invocations of bash functions through gantry-supervise: protocol, outcomes and environment.
final class FunctionHostRunTests: XCTestCase {
    func testMessagesArriveInOrderOneAtATimeAndTheResultIsReturned() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("steps", script: """
            event=$(cat)                       # stdin holds the event and is closed after it
            echo "got: $event" >&2
            echo '{"checkpoint": {"step": 1}}'
            echo '{"output": {"url": "http://x"}}'
            echo '{"checkpoint": {"step": 2}}'
            touch "$HOME/after-second-checkpoint"
            echo '{"heartbeat": true}'
            echo '{"result": {"status": "succeeded", "message": "done"}}'
            """)
        let host = try box.host()
        let request = box.request(spec, event: #"{"protocol":1,"stage":{"name":"STEPS"}}"#)
        let recorder = Recorder()
        var sawLaterLineWhileBusy = false
        let outcome = host.run(request, control: InvocationControl(), onStarted: recorder.onStarted,
            onMessage: { message in
                if message == .checkpoint(.object(["step": .number(1)])) {
                    // The function writes on while we hold the first checkpoint: the host must not skip ahead.
                    sawLaterLineWhileBusy = waitUntil(5) {
                        FileManager.default.fileExists(atPath: request.directory + "/after-second-checkpoint")
                    }
                    XCTAssertTrue(recorder.messages.isEmpty)
                }
                recorder.onMessage(message)
            }, onLog: recorder.onLog)

        XCTAssertTrue(sawLaterLineWhileBusy)
        XCTAssertEqual(recorder.messages, [
            .checkpoint(.object(["step": .number(1)])), .output(["url": "http://x"]),
            .checkpoint(.object(["step": .number(2)])), .heartbeat,
        ])
        XCTAssertEqual(outcome.result, FunctionResult(status: .succeeded, message: "done"))
        XCTAssertNil(outcome.errorType)
        XCTAssertNil(outcome.stopReason, "nothing stopped it")
        XCTAssertEqual(outcome.report.exitCode, 0)
        XCTAssertNil(outcome.report.signal)
        XCTAssertTrue(recorder.logs.contains(#"got: {"protocol":1,"stage":{"name":"STEPS"}}"#), "\(recorder.logs)")
        let started = try XCTUnwrap(recorder.started)
        XCTAssertGreaterThan(started.group, 1)
        XCTAssertGreaterThan(started.ticks, 0)
    }

    func testExitZeroWithoutResultSucceedsAndMalformedLinesAreOnlyWarnings() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("quiet", script: """
            echo 'this is not json'
            echo '{"what": 1}'
            echo '{"checkpoint": 7}'
            exit 0
            """)
        let recorder = Recorder()
        let outcome = try box.host().run(box.request(spec), recorder: recorder)
        XCTAssertEqual(outcome.result.status, .succeeded)
        XCTAssertNil(outcome.errorType)
        XCTAssertEqual(recorder.messages, [.checkpoint(.number(7))])
        let warnings = recorder.logs.filter { $0.hasPrefix("warning: malformed protocol line") }
        XCTAssertEqual(warnings.count, 2, "\(recorder.logs)")
        XCTAssertTrue(warnings[0].contains("this is not json"))
    }

    func testNonZeroExitFailsWithTheLastStderrLine() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("failing", script: "echo 'starting' >&2\necho 'kubectl: connection refused' >&2\nexit 3")
        let outcome = try box.host().run(box.request(spec), recorder: Recorder())
        XCTAssertEqual(outcome.result.status, .failed)
        XCTAssertEqual(outcome.result.message, "exited with status 3: kubectl: connection refused")
        XCTAssertEqual(outcome.report.exitCode, 3)
    }

    func testAFailedResultWithNonZeroExitKeepsTheFunctionsMessage() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("reports", script: """
            echo '{"result": {"status": "failed", "message": "manifest invalid", "retryable": true}}'
            exit 1
            """)
        let outcome = try box.host().run(box.request(spec), recorder: Recorder())
        XCTAssertEqual(outcome.result, FunctionResult(status: .failed, message: "manifest invalid", retryable: true))
    }

    func testKilledBySignalIsACrash() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("segv", script: "kill -SEGV $$")
        let outcome = try box.host().run(box.request(spec), recorder: Recorder())
        XCTAssertEqual(outcome.result.status, .failed)
        XCTAssertEqual(outcome.errorType, "Crashed")
        XCTAssertEqual(outcome.result.message, "killed by signal 11 (SIGSEGV)")
        XCTAssertEqual(outcome.report.signal, 11)
        XCTAssertNil(outcome.report.exitCode)
    }

    func testEnvironmentIsMinimal() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("env", script: "env >&2\necho \"pwd=$(pwd)\" >&2",
                                          extraYAML: "env: [DECLARED, DECLARED_BUT_UNSET]")
        let host = try box.host(environment: [
            "PATH": "/usr/bin:/bin", "LANG": "en_US.UTF-8", "DECLARED": "yes",
            "SERVER_SECRET": "hunter2", "GANTRY_SERVER_TOKEN": "secret-of-the-server",
        ])
        let request = box.request(spec, environment: ["GANTRY_DEPLOYMENT_ID": "d-1"])
        let recorder = Recorder()
        let outcome = host.run(request, recorder: recorder)
        XCTAssertEqual(outcome.result.status, .succeeded, "\(recorder.logs)")

        var env: [String: String] = [:]
        for line in recorder.logs where line.contains("=") && !line.hasPrefix("pwd=") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            env[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        XCTAssertEqual(env["PATH"], "/usr/bin:/bin")
        XCTAssertEqual(env["HOME"], request.directory)
        XCTAssertEqual(env["LANG"], "en_US.UTF-8")
        XCTAssertEqual(env["TMPDIR"], request.directory + "/tmp")
        XCTAssertEqual(env["GANTRY_CONTROL"], request.directory + "/.control")
        XCTAssertEqual(env["GANTRY_DEPLOYMENT_ID"], "d-1")
        XCTAssertEqual(env["DECLARED"], "yes")
        // bash itself adds PWD, SHLVL and _; nothing of the server's may appear.
        let allowed: Set = ["PATH", "HOME", "LANG", "TMPDIR", "GANTRY_CONTROL", "GANTRY_DEPLOYMENT_ID", "DECLARED",
                            "PWD", "SHLVL", "_", "OLDPWD"]
        XCTAssertEqual(Set(env.keys).subtracting(allowed), [], "unexpected variables leaked")
        XCTAssertTrue(recorder.logs.contains("pwd=\(request.directory)"))
        var isDir: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: request.directory + "/tmp", isDirectory: &isDir) && isDir.boolValue)
    }

    func testOnlyTheStdioPipesReachTheFunction() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("fds", script: "ls /proc/$$/fd >&2")
        let recorder = Recorder()
        _ = try box.host().run(box.request(spec), recorder: recorder)
        // bash may open its script on a high fd (255); nothing else beyond 0, 1, 2.
        XCTAssertEqual(Set(recorder.logs).subtracting(["255"]), ["0", "1", "2"], "\(recorder.logs)")
    }

    func testLangDefaultsToCUTF8AndANonEmptyDirectoryIsRefused() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("lang", script: "echo \"LANG=$LANG\" >&2")
        let host = try box.host(environment: ["PATH": "/usr/bin:/bin"])
        let recorder = Recorder()
        let request = box.request(spec)
        _ = host.run(request, recorder: recorder)
        XCTAssertEqual(recorder.logs, ["LANG=C.UTF-8"])

        let again = host.run(request, recorder: Recorder()) // same directory, now not empty
        XCTAssertEqual(again.result.status, .failed)
        XCTAssertTrue(again.result.message?.contains("not empty") == true, again.result.message ?? "")
    }

    func testAMissingCommandIsMissingTool() throws {
        let box = try FunctionSandbox()
        try box.addFunction("ghost", yaml: "stages: [G]\ncommand: [no-such-program-xyz]\n")
        let registry = FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: [])
        let host = FunctionHost(supervisorPath: try SupervisorBinary.require(), registry: registry)
        let outcome = host.run(box.request(registry.functions[0]), recorder: Recorder())
        XCTAssertEqual(outcome.errorType, "MissingTool")
        XCTAssertTrue(outcome.result.message?.contains("no-such-program-xyz") == true)
    }

    func testAnEventLargerThanAPipeBufferIsDeliveredWhole() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("reader", script: "wc -c >&2")
        let event = #"{"protocol":1,"pad":""# + String(repeating: "x", count: 300_000) + #""}"#
        let recorder = Recorder()
        let outcome = try box.host().run(box.request(spec, event: event), recorder: recorder)
        XCTAssertEqual(outcome.result.status, .succeeded)
        XCTAssertEqual(recorder.logs, ["\(event.utf8.count)"])
    }

    func testAFunctionThatNeverReadsStdinDoesNotHurtTheHost() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("deaf", script: "exec 0<&-\necho bye >&2")
        let event = #"{"pad":""# + String(repeating: "x", count: 500_000) + #""}"#
        let recorder = Recorder()
        let outcome = try box.host().run(box.request(spec, event: event), recorder: recorder)
        XCTAssertEqual(outcome.result.status, .succeeded) // and no SIGPIPE took this process down
        XCTAssertEqual(recorder.logs, ["bye"])
    }

    func testAMissingSupervisorIsAClearFailure() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("any", script: "exit 0")
        let host = FunctionHost(supervisorPath: box.root + "/no-such-supervisor",
                                registry: FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: []))
        let outcome = host.run(box.request(spec), recorder: Recorder())
        XCTAssertEqual(outcome.result.status, .failed)
        XCTAssertTrue(outcome.result.message?.contains("no-such-supervisor") == true, outcome.result.message ?? "")
    }

    func testInvokeRunsOnItsOwnThread() async throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("async", script: #"echo '{"output": {"k": "v"}}'"#)
        let recorder = Recorder()
        let outcome = try await box.host().invoke(
            box.request(spec), control: InvocationControl(),
            onStarted: { recorder.onStarted($0, $1) }, onMessage: { recorder.onMessage($0) }, onLog: { recorder.onLog($0) })
        XCTAssertEqual(outcome.result.status, .succeeded)
        XCTAssertEqual(recorder.messages, [.output(["k": "v"])])
    }
}
