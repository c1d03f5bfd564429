import Foundation
import SQLiteStore
import Store
import XCTest

/// Planning a push costs a constant number of git processes, however many applications the repository holds:
/// configs are read through one `cat-file --batch`, not a process per file.
final class GitProcessCountTests: XCTestCase {
    func testAPushTouchingOneAppRunsAsManyGitProcessesAt1000AppsAsAt10() async throws {
        let small = try await gitCommandsForOnePush(apps: 10)
        let large = try await gitCommandsForOnePush(apps: 1000)
        XCTAssertEqual(large.total, small.total, "git processes for one push: \(small) with 10 apps, \(large) with 1,000")
        // The first push also fetches into a new mirror: about a dozen processes in all, not one per config.
        XCTAssertLessThanOrEqual(large.total, 16, large.lines)
    }

    /// A repository of `apps` applications, all deployed at its first commit (seeded in the store); then one push
    /// touching one of them. Returns the git processes the server ran meanwhile.
    private func gitCommandsForOnePush(apps: Int) async throws -> (total: Int, lines: String) {
        let root = try makeTempDir()
        let git = try GitFixture(root: root)
        for i in 0..<apps {
            try git.write("apps/app-\(i)/app.gantry.yaml", """
                apiVersion: gantry.dev/v1
                spec:
                  name: app-\(i)
                  pipeline:
                    stages:
                      - name: SCRIPT_RUN
                        with: {run: "true"}
                """)
            try git.write("apps/app-\(i)/version", "0")
        }
        let first = try git.commitAndPush("\(apps) apps").commit
        let server = try ServerProcess(root: root, git: git)
        try await Self.seedDeployed(apps: apps, at: first, dataDir: server.dataDir)
        try git.installHook(url: server.url + "/hooks/demo")
        try await server.start()
        defer { server.stop() }

        try git.write("apps/app-7/version", "1")
        let second = try git.commitAndPush("touch app-7").commit
        let id = try await eventually("the deployment of app-7 at the second commit", timeout: 60) {
            try await server.deployments().first { $0["commit"] as? String == second }?["id"] as? String
        }
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done["status"] as? String, "SUCCESS", server.logText())
        let deployed = try await server.deployments().filter { $0["commit"] as? String == second }
        XCTAssertEqual(deployed.map { $0["application"] as? String }, ["app-7"])
        let text = String(decoding: try await server.request("GET", "/metrics", auth: false).data, as: UTF8.self)
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("gantry_git_commands_total{") }.joined(separator: "\n")
        return (try await EngineWakeupTests.counter(server, "gantry_git_commands_total") ?? 0, lines)
    }

    /// Every application known and deployed at `commit`, as a server that planned it would have left the store.
    static func seedDeployed(apps: Int, at commit: String, dataDir: String) async throws {
        let store = try SQLiteStore(path: DataLayout.database(dataDir))
        let applications = (0..<apps).map { i in
            Application(name: "app-\(i)", repository: "demo", path: "apps/app-\(i)",
                        configFile: "apps/app-\(i)/app.gantry.yaml", kind: "App", platform: nil,
                        lastTriggeredCommit: commit, runningCommit: commit, configError: nil, updatedAt: Date())
        }
        try await store.commitPlan(PlanOutcome(triggerID: 0, applications: applications, deployments: []))
    }
}
