import Foundation
import GantryAPI
import GantrySupport
import KubeSupport
import XCTest

/// The core slice end to end, on real parts: a push to a bare repository fires the post-receive hook, the hook
/// sends a signed GitHub delivery, and the deployment's stage functions run as real processes.
final class PushToDeployTests: XCTestCase {
    func testPushRunsPipelineToSuccessVisibleInAPIAndCLI() async throws {
        let (git, server, _) = try await launchServer()

        try git.write("apps/hello/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            kind: App
            spec:
              name: hello
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with:
                      run: echo "building $SR_APPLICATION_NAME"; cat index.txt
                  - name: WAIT
                    with: {duration: 1s}
                  - name: WAIT_APPROVAL
                  - name: SCRIPT_RUN
                    with: {run: echo promoted}
            """)
        try git.write("apps/hello/index.txt", "hello v1\n")
        let (commit, hookOutput) = try git.commitAndPush("first version")
        XCTAssertTrue(hookOutput.contains("answered 202"), "hook output: \(hookOutput)")

        let id = try await server.deploymentID(commit: commit)
        // WAIT_APPROVAL suspends until someone approves; approve through the real CLI.
        _ = try await eventually("WAIT_APPROVAL to suspend") {
            stage(try await server.deployment(id), 2)?.status == "SUSPENDED" ? true : nil
        }
        let approved = try server.cli(["approve", id])
        XCTAssertTrue(approved.contains("approved by tester"), approved)

        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(done.application, "hello")
        let visible = done.stages.filter { !$0.rollback }
        XCTAssertEqual(visible.map(\.name), ["SCRIPT_RUN", "WAIT", "WAIT_APPROVAL", "SCRIPT_RUN"])
        XCTAssertEqual(visible.map(\.status), ["SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS"])
        XCTAssertEqual(visible.map(\.attempts), [1, 1, 1, 1], "a resumed stage continues its attempt")
        let firstLogs = stage(done, 0)?.logText ?? ""
        XCTAssertTrue(firstLogs.contains("building hello"), firstLogs)
        XCTAssertTrue(firstLogs.contains("hello v1"), firstLogs)

        // The CLI shows the same.
        let cliJSON = try server.cli(["deployments", "--json"])
        XCTAssertTrue(cliJSON.contains(id) && cliJSON.contains("\"SUCCESS\""), cliJSON)
        let cliTable = try server.cli(["deployments"])
        XCTAssertTrue(cliTable.contains("hello") && cliTable.contains("SUCCESS"), cliTable)
        let logs = try server.cli(["logs", id])
        XCTAssertTrue(logs.contains("promoted"), logs)
        server.stop()
    }

    func testSameDeliveryTwiceAndReplayedOldPushDeployNothing() async throws {
        let (git, server, _) = try await launchServer(hook: false)
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: replay
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: "true"}
            """)
        let first = try git.commitAndPush("one").commit
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")

        let firstDelivery = signer.push(after: first, before: String(repeating: "0", count: 40))
        let a = try await signer.send(firstDelivery)
        XCTAssertEqual(a.status, 202, String(decoding: a.data, as: UTF8.self))
        let firstID = try await eventually("deployment of the first push") {
            try await server.deployments().first?.id
        }
        _ = try await server.waitForDeployment(firstID)
        try git.write("app/file.txt", "two")
        let second = try git.commitAndPush("two").commit

        // Same delivery id again: acknowledged as a duplicate, nothing new.
        let again = try await signer.send(firstDelivery)
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(try again.decode(Message.self).status, "duplicate")

        // The newer push deploys...
        let b = try await signer.send(signer.push(after: second, before: first))
        XCTAssertEqual(b.status, 202)
        let secondID = try await eventually("deployment of the second push") {
            try await server.deployments().first { $0.commit == second }?.id
        }
        _ = try await server.waitForDeployment(secondID)
        // ...and an old push replayed under a new delivery id afterwards deploys nothing.
        let replay = try await signer.send(signer.push(after: first, before: String(repeating: "0", count: 40)))
        XCTAssertEqual(replay.status, 202)
        try await assertStaysTrue("no third deployment appears", for: 2) { try await server.deployments().count == 2 }
        let deployments = try await server.deployments()
        XCTAssertEqual(deployments.count, 2)
        XCTAssertEqual(deployments.first?.commit, second)
        server.stop()
    }

    func testForcePushBackDeploysTheOlderCommitAndAReplayOfTheNewerDeploysNothing() async throws {
        let (git, server, _) = try await launchServer(hook: false)
        try git.write("app/app.gantry.yaml", scriptRunApp(name: "rollback-by-git", run: "cat version.txt"))
        try git.write("app/version.txt", "v1")
        let v1 = try git.commitAndPush("v1").commit
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")
        let zero = String(repeating: "0", count: 40)
        _ = try await signer.send(signer.push(after: v1, before: zero))
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: v1))
        try git.write("app/version.txt", "v2")
        let v2 = try git.commitAndPush("v2").commit
        let v2Delivery = signer.push(after: v2, before: v1)
        _ = try await signer.send(v2Delivery)
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: v2))

        // git reset --hard v1 && git push -f
        _ = try sh(["git", "-C", git.work, "reset", "-q", "--hard", v1])
        _ = try sh(["git", "-C", git.work, "push", "-q", "--force", "origin", "main"])
        let forced = try await signer.send(signer.push(after: v1, before: v2))
        XCTAssertEqual(forced.status, 202)
        let rollbackID = try await eventually("a third deployment, of v1") {
            let all = try await server.deployments()
            return all.count == 3 && all.first?.commit == v1 ? all.first?.id : nil
        }
        let rollback = try await server.waitForDeployment(rollbackID)
        XCTAssertEqual(rollback.status, "SUCCESS", server.logText())
        let summary = rollback.summary
        XCTAssertTrue(summary.hasPrefix("Rollback by Git: head moved from \(v2.prefix(7)) to \(v1.prefix(7))."), summary)
        let logs = stage(rollback, 0)?.logText ?? ""
        XCTAssertTrue(logs.contains("v1"), logs)

        // v2's delivery again under a new id: v2 is no longer the head, so nothing deploys.
        let replay = try await signer.send(signer.push(after: v2, before: v1))
        XCTAssertEqual(replay.status, 202)
        try await assertStaysTrue("no fourth deployment appears", for: 2) { try await server.deployments().count == 3 }
        server.stop()
    }
}

/// Asserts a condition holds during the whole window (used only to show that something does *not* happen).
func assertStaysTrue(_ what: String, for seconds: Double, file: StaticString = #filePath, line: UInt = #line,
                     _ probe: () async throws -> Bool) async throws {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try await !probe() { XCTFail("not true any more: \(what)", file: file, line: line); return }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
}
