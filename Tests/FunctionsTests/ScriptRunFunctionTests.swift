import Foundation
import FunctionKit
import XCTest

final class ScriptRunFunctionTests: XCTestCase {
    private let fn = "gantry-fn-script-run"
    private var dirs: [URL] = []

    override func tearDown() {
        for dir in dirs { try? FileManager.default.removeItem(at: dir) }
        super.tearDown()
    }

    private func makeDir(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("script-run-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dirs.append(dir)
        return dir.resolvingSymlinksInPath().path
    }

    private func event(_ with: [String: JSONValue], target: String, running: String? = nil,
                       rollback: Bool = false) -> FunctionEvent {
        TestEvent.make(stage: rollback ? "SCRIPT_RUN_ROLLBACK" : "SCRIPT_RUN", with: .object(with), rollback: rollback,
                       target: target, running: running)
    }

    func testScriptRunsInTheTargetDirectoryWithItsEnvironment() throws {
        let target = try makeDir("target")
        let script = """
            echo "pwd=$(pwd)" >&2
            echo "foo=$FOO" >&2
            echo "id=$SR_DEPLOYMENT_ID app=$SR_APPLICATION_NAME commit=$SR_TRIGGERED_COMMIT_HASH rollback=$SR_IS_ROLLBACK" >&2
            """
        let run = try FunctionProcess.run(fn, event: event(
            ["run": .string(script), "env": .object(["FOO": .string("bar baz")])], target: target))
        XCTAssertEqual(run.result, FunctionResult(status: .succeeded, message: "script succeeded"), run.stderr)
        XCTAssertTrue(run.stderr.contains("pwd=\(target)\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("foo=bar baz\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("id=dep-1 app=demo-app commit=0123abcd rollback=false\n"), run.stderr)
    }

    func testScriptGetsPipeCDsWholeContextAndCannotFakeIt() throws {
        let target = try makeDir("context")
        var e = event(["run": .string("env | grep '^SR_' | sort >&2"),
                       "env": .object(["SR_SUMMARY": .string("forged")])], target: target)
        e.deployment.trigger = .init(kind: "manual", commitMessage: "", author: "alice")
        e.deployment.triggeredAt = "2025-03-01T10:00:00.000Z"
        e.deployment.summary = "Quick sync (forced by a manual sync)"
        e.deployment.labels = ["env": "prod", "team": "payments"]
        e.deployment.repositoryURL = "https://git.example/acme/deploy.git"
        let run = try FunctionProcess.run(fn, event: e)
        XCTAssertEqual(run.result?.status, .succeeded, run.stderr)
        let vars = Dictionary(run.stderr.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let eq = line.firstIndex(of: "="), line.hasPrefix("SR_") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(vars["SR_DEPLOYMENT_ID"], "dep-1")
        XCTAssertEqual(vars["SR_APPLICATION_ID"], "demo-app")
        XCTAssertEqual(vars["SR_APPLICATION_NAME"], "demo-app")
        XCTAssertEqual(vars["SR_TRIGGERED_AT"], "1740823200")
        XCTAssertEqual(vars["SR_TRIGGERED_COMMIT_HASH"], "0123abcd")
        XCTAssertEqual(vars["SR_TRIGGERED_COMMANDER"], "alice")
        XCTAssertEqual(vars["SR_REPOSITORY_URL"], "https://git.example/acme/deploy.git")
        XCTAssertEqual(vars["SR_SUMMARY"], "Quick sync (forced by a manual sync)", "with.env cannot fake an SR_ variable")
        XCTAssertEqual(vars["SR_IS_ROLLBACK"], "false")
        XCTAssertEqual(vars["SR_LABELS_ENV"], "prod")
        XCTAssertEqual(vars["SR_LABELS_TEAM"], "payments")
        struct Context: Decodable, Equatable {
            var deploymentID, applicationID, applicationName, triggeredCommitHash, triggeredCommander, repositoryURL,
                summary: String
            var triggeredAt: Int64
            var labels: [String: String]
            var isRollback: Bool?
        }
        let raw = try JSONDecoder().decode(Context.self, from: Data((vars["SR_CONTEXT_RAW"] ?? "").utf8))
        XCTAssertEqual(raw, Context(deploymentID: "dep-1", applicationID: "demo-app", applicationName: "demo-app",
                                    triggeredCommitHash: "0123abcd", triggeredCommander: "alice",
                                    repositoryURL: "https://git.example/acme/deploy.git",
                                    summary: "Quick sync (forced by a manual sync)", triggeredAt: 1740823200,
                                    labels: ["env": "prod", "team": "payments"], isRollback: nil))
    }

    func testScriptStdoutGoesToTheStageLogNeverToTheProtocolStream() throws {
        let target = try makeDir("stdout")
        let run = try FunctionProcess.run(fn, event: event(
            ["run": .string(#"echo '{"result":{"status":"failed","message":"forged"}}'; echo SCRIPT-STDOUT-MARKER"#)],
            target: target))
        XCTAssertEqual(run.stdoutLines.count, 1, "only the function's result may be on stdout: \(run.stdoutLines)")
        XCTAssertEqual(run.result?.status, .succeeded)
        XCTAssertFalse(run.stdoutLines.joined().contains("SCRIPT-STDOUT-MARKER"))
        XCTAssertTrue(run.stderr.contains("SCRIPT-STDOUT-MARKER"), run.stderr)
        XCTAssertTrue(run.stderr.contains("forged"), run.stderr)
    }

    func testNonZeroExitFailsTheStageAndErrexitStopsTheScript() throws {
        let target = try makeDir("exit")
        let exit3 = try FunctionProcess.run(fn, event: event(["run": .string("exit 3")], target: target))
        XCTAssertEqual(exit3.result, FunctionResult(status: .failed, message: "script exited with status 3"))
        XCTAssertEqual(exit3.exitCode, 0, "the function reports the failure; it does not crash")

        let errexit = try FunctionProcess.run(fn, event: event(["run": .string("false\necho after-false >&2")],
                                                               target: target))
        XCTAssertEqual(errexit.result, FunctionResult(status: .failed, message: "script exited with status 1"))
        XCTAssertFalse(errexit.stderr.contains("after-false"), "bash -e stops at the first failing command")
    }

    func testScriptKilledBySignalSaysWhichSignal() throws {
        let target = try makeDir("signal")
        let run = try FunctionProcess.run(fn, event: event(["run": .string("kill -KILL $$")], target: target))
        XCTAssertEqual(run.result, FunctionResult(status: .failed, message: "script was killed by SIGKILL (signal 9)"))
    }

    func testTimeoutKillsTheScriptAndEverythingItStarted() throws {
        let target = try makeDir("timeout")
        let marker = "4\(Int.random(in: 100...999)).\(Int.random(in: 100...999))"
        let running = try FunctionProcess(fn, event: event(
            ["run": .string("echo started >&2\nsleep \(marker)\necho never >&2"), "timeout": .string("1s")],
            target: target))
        try waitUntil("the script's sleep is running", within: 5) { !sleepProcesses(marker).isEmpty }
        let run = try running.finish(within: 10)
        XCTAssertEqual(run.result, FunctionResult(status: .failed, message: "script timed out after 1s"))
        XCTAssertLessThan(run.elapsed, 4, "SIGTERM ends sleep at once; no need to wait for the SIGKILL grace")
        try waitUntil("no sleep \(marker) is left", within: 2) { sleepProcesses(marker).isEmpty }
        XCTAssertFalse(run.stderr.contains("never"))
    }

    func testAScriptIgnoringSigtermIsKilledAfterTheGracePeriod() throws {
        let target = try makeDir("ignore-term")
        let marker = "5\(Int.random(in: 100...999)).\(Int.random(in: 100...999))"
        // `trap '' TERM` is inherited by sleep, so only SIGKILL can end either.
        let running = try FunctionProcess(fn, event: event(
            ["run": .string("trap '' TERM\nsleep \(marker)\necho never >&2"), "timeout": .string("1s")], target: target))
        try waitUntil("the script's sleep is running", within: 5) { !sleepProcesses(marker).isEmpty }
        let run = try running.finish(within: 15)
        XCTAssertEqual(run.result, FunctionResult(status: .failed, message: "script timed out after 1s"))
        XCTAssertGreaterThan(run.elapsed, 5, "SIGKILL comes 5 s after SIGTERM")
        XCTAssertTrue(run.stderr.contains("sending SIGKILL"), run.stderr)
        try waitUntil("no sleep \(marker) is left", within: 2) { sleepProcesses(marker).isEmpty }
    }

    func testRollbackRunsOnRollbackInTheRunningSources() throws {
        let target = try makeDir("target"), running = try makeDir("running")
        let run = try FunctionProcess.run(fn, event: event(
            ["run": .string("touch forward-ran"),
             "onRollback": .string(#"echo "rollback in $(pwd) is=$SR_IS_ROLLBACK" >&2"#)],
            target: target, running: running, rollback: true))
        XCTAssertEqual(run.result, FunctionResult(status: .succeeded, message: "onRollback script succeeded"))
        XCTAssertTrue(run.stderr.contains("rollback in \(running) is=true\n"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + "/forward-ran"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: running + "/forward-ran"))
    }

    func testRollbackWithoutOnRollbackHasNothingToDo() throws {
        let target = try makeDir("target")
        let run = try FunctionProcess.run(fn, event: event(["run": .string("touch forward-ran")], target: target,
                                                           rollback: true))
        XCTAssertEqual(run.result, FunctionResult(status: .succeeded, message: "nothing to roll back"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + "/forward-ran"))
    }

    func testMissingRunFailsWithAClearMessage() throws {
        let run = try FunctionProcess.run(fn, event: event([:], target: try makeDir("missing")))
        XCTAssertEqual(run.result?.status, .failed)
        XCTAssertEqual(run.result?.message, "SCRIPT_RUN needs with.run (the script to run)")
    }
}

/// Live `sleep <marker>` processes (zombies have an empty cmdline, so they do not count).
private func sleepProcesses(_ marker: String) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { pid in
        guard Int(pid) != nil, let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return args.count == 2 && args[0].hasSuffix("sleep") && args[1] == marker
    }
}

/// Polls `condition` until it holds or `seconds` pass (then fails with `what`).
private func waitUntil(_ what: String, within seconds: TimeInterval, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw FunctionProcess.TooSlow(description: "timed out waiting until \(what)") }
        usleep(10_000)
    }
}
