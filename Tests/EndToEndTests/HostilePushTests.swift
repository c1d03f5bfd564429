import Foundation
import GantrySupport
import KubeSupport
import XCTest

/// Pushes built to hurt, against a real server: the affected app gets the reason, the other apps of the commit
/// deploy, the next push deploys, memory stays bounded, and nothing comes back to haunt a restart.
final class HostilePushTests: XCTestCase {
    func testANestedGitFolderBlocksOnlyItsAppAndTheNextPushDeploys() async throws {
        let (git, server, _) = try await launchServer()
        try git.write("apps/bad/app.gantry.yaml", scriptRunApp(name: "bad"))
        try git.write("apps/good/app.gantry.yaml", scriptRunApp(name: "good"))
        _ = try sh(["git", "-C", git.work, "add", "-A"])
        _ = try sh(["git", "-C", git.work, "commit", "-q", "-m", "two apps"])
        let nested = try sh(["bash", "-c", HostileRepository.nestedGitFolderScript(directory: "apps/bad")], cwd: git.work)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try sh(["git", "-C", git.work, "reset", "-q", "--soft", nested])
        _ = try sh(["git", "-C", git.work, "push", "-q", "origin", "main"])

        let good = try await server.waitForDeployment(try await server.deploymentID(commit: nested))
        XCTAssertEqual(good.application, "good")
        XCTAssertEqual(good.status, "SUCCESS", server.logText())
        let reason = try await eventually("the bad app's config error") { try await Self.configError(server, "bad") }
        XCTAssertTrue(reason.contains("cannot export apps/bad") && reason.contains(".git/config"), reason)

        // The push that drops the folder deploys the app: nothing was held back by the bad commit.
        try git.write("apps/bad/fixed.txt", "fixed")
        let fixed = try git.commitAndPush("drop the nested repository")
        let bad = try await server.waitForDeployment(try await server.deploymentID(commit: fixed.commit))
        XCTAssertEqual(bad.application, "bad")
        XCTAssertEqual(bad.status, "SUCCESS", server.logText())
        let cleared = try await Self.configError(server, "bad")
        XCTAssertNil(cleared)
        let left = try FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/deployments")
        XCTAssertEqual(left, [], "no folder left by the refused export")
        server.stop()
    }

    func testAnAliasBombCostsBoundedMemoryAndARestartDoesNotReadItAgain() async throws {
        let (git, server, _) = try await launchServer()
        try git.write("apps/bomb/app.gantry.yaml", HostileRepository.aliasBombApp(name: "bomb"))
        try git.write("apps/good/app.gantry.yaml", scriptRunApp(name: "good"))
        let pushed = try git.commitAndPush("a bomb beside a good app")

        let good = try await server.waitForDeployment(try await server.deploymentID(commit: pushed.commit))
        XCTAssertEqual(good.application, "good")
        XCTAssertEqual(good.status, "SUCCESS", server.logText())
        let reason = try await eventually("the bomb's config error") { try await Self.configError(server, "bomb") }
        XCTAssertTrue(reason.contains("more than 100000 YAML nodes once aliases are expanded"), reason)
        let health = try await server.request("GET", "/healthz", auth: false)
        XCTAssertEqual(health.status, 200)
        // The bound: a server that never expands the bomb stays near its idle size.
        let peak = try XCTUnwrap(server.peakRSSKiB())
        print("server peak RSS after the bomb: \(peak) KiB")
        XCTAssertLessThan(peak, 150 << 10, "peak RSS \(peak) KiB")

        server.stop()
        try await server.start()
        let again = try await server.request("GET", "/healthz", auth: false)
        XCTAssertEqual(again.status, 200)
        try await assertStaysTrue("the restart plans nothing again", for: 1.5) { try await server.deployments().count == 1 }
        server.stop()
    }

    static func configError(_ server: ServerProcess, _ app: String) async throws -> String? {
        let apps = try await server.applications()
        return apps.first { $0.name == app }?.configError
    }
}
