import Foundation
import GantrySupport
import SQLiteStore
import Store
import XCTest

/// Planning a push costs a constant number of git processes, however many applications the repository holds:
/// configs are read through one `cat-file --batch`, not a process per file.
final class GitProcessCountTests: XCTestCase {
    func testAPushTouchingOneAppRunsAsManyGitProcessesAt1000AppsAsAt10() async throws {
        let small = try await gitCommandsPerPush(apps: 10, pushes: 3)
        let large = try await gitCommandsPerPush(apps: 1000, pushes: 3)
        XCTAssertEqual(large.counts, small.counts, "git processes per push: \(small) with 10 apps, \(large) with 1,000")
        // The first push also fetches into a new mirror: about a dozen processes in all, not one per config.
        XCTAssertLessThanOrEqual(large.counts[0], 16, large.lines)
        // Each later push touches another application: the cost stays the same as history grows (whether an app is
        // touched is one diff from the last plan, not one per app's last deployed commit).
        XCTAssertEqual(large.counts[2], large.counts[1], large.lines)
    }

    /// A repository of `apps` applications, all deployed at its first commit (seeded in the store); then `pushes`
    /// pushes, each touching another one of them. Returns the git processes the server ran for each push.
    private func gitCommandsPerPush(apps: Int, pushes: Int) async throws -> (counts: [Int], lines: String) {
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

        var counts: [Int] = []
        var before = 0
        for push in 0..<pushes {
            let app = "app-\(7 - push)"
            try git.write("apps/\(app)/version", "1")
            let commit = try git.commitAndPush("touch \(app)").commit
            let id = try await eventually("the deployment of \(app) at \(commit.prefix(8))", timeout: 60) {
                try await server.deployments().first { $0.commit == commit }?.id
            }
            let done = try await server.waitForDeployment(id)
            XCTAssertEqual(done.status, "SUCCESS", server.logText())
            let deployed = try await server.deployments().filter { $0.commit == commit }
            XCTAssertEqual(deployed.map(\.application), [app])
            let total = try await EngineWakeupTests.counter(server, "gantry_git_commands_total") ?? 0
            counts.append(total - before)
            before = total
        }
        let text = String(decoding: try await server.request("GET", "/metrics", auth: false).data, as: UTF8.self)
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("gantry_git_commands_total{") }.joined(separator: "\n")
        return (counts, lines)
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
