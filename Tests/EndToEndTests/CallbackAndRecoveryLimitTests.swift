import Foundation
import GantrySupport
import XCTest

/// The function protocol across server crashes (docs/function-protocol.md): callback tokens stay valid, and a
/// stage that keeps taking the server down cannot loop forever.
final class CallbackAndRecoveryLimitTests: XCTestCase {
    func testCallbackTokenHandedOutBeforeKill9ResolvesAfterRestartOnce() async throws {
        let marks = try makeTempDir("marks")
        let functions: (String) throws -> String = { root in
            try writeScriptFunctions(in: root, [("await", "stages: [AWAIT_CALLBACK]", """
                event=$(cat)
                if echo "$event" | grep -q '"reason":"callback"'; then
                  if echo "$event" | grep -q '"status":"succeeded"'; then
                    echo "payload seen: $(echo "$event" | grep -o '"payload":{[^}]*}')" >&2
                    echo '{"result": {"status": "succeeded", "message": "the outside system said yes"}}'
                  else
                    echo '{"result": {"status": "failed", "message": "the outside system said no"}}'
                  fi
                  exit 0
                fi
                echo "$GANTRY_CALLBACK_URL" > \(marks)/callback-url
                echo '{"result": {"status": "suspended", "waitFor": {"callback": {"timeout": "1h"}}}}'
                """)])
        }
        let (git, server, _) = try await launchServer(functionsDir: functions)
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: waits
              pipeline:
                stages:
                  - name: AWAIT_CALLBACK
            """)
        let commit = try git.commitAndPush("needs a callback").commit
        let id = try await server.deploymentID(commit: commit)
        _ = try await eventually("the stage to suspend waiting for its callback") {
            let s = stage(try await server.deployment(id), 0)
            return s?.status == "SUSPENDED" && s?.waitingFor == "callback" ? true : nil
        }
        let url = try String(contentsOfFile: marks + "/callback-url", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(url.hasPrefix(server.url + "/api/v1/callbacks/"), url)
        let path = String(url.dropFirst(server.url.count))
        XCTAssertEqual(path.split(separator: "/").last?.count, 64, "256-bit token in hex")

        server.kill9()
        try await server.start()
        let body = Data(#"{"status": "succeeded", "payload": {"build": 42}}"#.utf8)
        let heartbeat = try await server.request("POST", path, body: Data(#"{"status": "heartbeat"}"#.utf8), auth: false)
        XCTAssertEqual(heartbeat.status, 202)
        let first = try await server.request("POST", path, body: body, auth: false)
        XCTAssertEqual(first.status, 202, String(decoding: first.data, as: UTF8.self))
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        let logs = stage(done, 0)?.logText ?? ""
        XCTAssertTrue(logs.contains(#""build":42"#), logs)
        let replay = try await server.request("POST", path, body: body, auth: false)
        XCTAssertEqual(replay.status, 404, "a used token is gone")
        let unknown = try await server.request("POST", "/api/v1/callbacks/" + String(repeating: "0", count: 64), body: body,
                                               auth: false)
        XCTAssertEqual(unknown.status, 404)
        server.stop()
    }

    func testStageThatKeepsTakingTheServerDownEndsWithRecoveryLimit() async throws {
        let marks = try makeTempDir("marks")
        let functions: (String) throws -> String = { root in
            try writeScriptFunctions(in: root, [("doom", "stages: [DOOM]", """
                cat > /dev/null
                echo started >> \(marks)/starts
                sleep 1000
                """)])
        }
        let (git, server, _) = try await launchServer(functionsDir: functions)
        try git.write("doomed/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: doomed
              pipeline:
                stages:
                  - name: DOOM
            """)
        try git.write("healthy/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: healthy
              pipeline:
                stages:
                  - name: WAIT
                    with: {duration: 2s}
            """)
        try git.commitAndPush("one stage crashes the server every time")
        func starts() -> Int {
            ((try? String(contentsOfFile: marks + "/starts", encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        // Six times the server dies while the stage runs (default maxRecoveries: 5).
        for round in 1...6 {
            _ = try await eventually("invocation \(round) of the doomed stage") { starts() >= round ? true : nil }
            server.kill9()
            try await server.start()
        }
        let all = try await server.deployments()
        let doomedID = try XCTUnwrap(all.first { $0.application == "doomed" }?.id)
        let healthyID = try XCTUnwrap(all.first { $0.application == "healthy" }?.id)
        let doomed = try await server.waitForDeployment(doomedID)
        XCTAssertEqual(doomed.status, "FAILURE")
        let doomedStage = try XCTUnwrap(stage(doomed, 0))
        XCTAssertEqual(doomedStage.errorType, "RecoveryLimit", "\(doomedStage)")
        XCTAssertEqual(doomedStage.recoveries, 6)
        XCTAssertEqual(starts(), 6, "no seventh invocation")
        let healthy = try await server.waitForDeployment(healthyID)
        XCTAssertEqual(healthy.status, "SUCCESS")
        server.stop()
    }
}
