import Foundation
import GantrySupport
import SQLiteStore
import Store
import XCTest

/// The engine reads only what changed: an event advances its own deployment, the safety sweep reads only due or
/// stale rows, and a thousand deployments waiting for an hour cost no reads while they wait.
final class EngineWakeupTests: XCTestCase {
    func testOneEventReadsItsDeploymentNotTheThousandWaiting() async throws {
        let root = try makeTempDir()
        let server = try ServerProcess(root: root, git: nil, serverYAML: "sweepInterval: 1s")
        let ids = try await Self.seedSuspended(count: 1000, dataDir: server.dataDir)
        try await server.start()
        defer { server.stop() }

        // The first look after start reads every active deployment once (recovery).
        _ = try await eventually("the start-up look at all deployments", timeout: 30) {
            try await Self.counter(server, "gantry_engine_deployments_read_total").map { $0 >= 1000 ? true : nil } ?? nil
        }
        // Idle: sweeps go by and read nothing, since nothing is due for an hour.
        let before = try await Self.counter(server, "gantry_engine_deployments_read_total") ?? 0
        let sweeps = try await Self.counter(server, "gantry_engine_sweeps_total") ?? 0
        _ = try await eventually("two more sweeps", timeout: 10) {
            try await Self.counter(server, "gantry_engine_sweeps_total").map { $0 >= sweeps + 2 ? true : nil } ?? nil
        }
        let idle = try await Self.counter(server, "gantry_engine_deployments_read_total") ?? 0
        XCTAssertEqual(idle, before, "idle sweeps read deployment rows")

        // One cancel: its deployment is read (a few times while it goes to CANCELLED), not the other 999.
        let target = ids[500]
        let answer = try await server.request("POST", "/api/v1/deployments/\(target)/cancel",
                                              body: Data(#"{"rollback": false}"#.utf8))
        XCTAssertEqual(answer.status, 202, String(decoding: answer.data, as: UTF8.self))
        let done = try await server.waitForDeployment(target, timeout: 20)
        XCTAssertEqual(done.status, "CANCELLED")
        let after = try await Self.counter(server, "gantry_engine_deployments_read_total") ?? 0
        XCTAssertLessThanOrEqual(after - idle, 5, "one cancel read \(after - idle) deployment rows")
        let other = try await server.deployment(ids[501])
        XCTAssertEqual(other.status, "RUNNING")
    }

    /// `count` running deployments of as many applications, each with one WAIT stage suspended for an hour.
    static func seedSuspended(count: Int, dataDir: String) async throws -> [String] {
        let store = try SQLiteStore(path: DataLayout.database(dataDir))
        let now = Date()
        let details = (0..<count).map { i -> DeploymentDetail in
            let id = "seeded-\(i)"
            let deployment = Deployment(id: id, application: "app-\(i)", repository: "demo", appPath: "app-\(i)",
                                        platform: nil, commit: "c\(i)", runningCommit: nil, triggerKind: .webhook,
                                        commitMessage: "seed", author: "test", strategy: .pipeline, summary: "seeded",
                                        status: .running, startedAt: now, deadline: now.addingTimeInterval(6 * 3600))
            return DeploymentDetail(deployment: deployment, stages: [
                Stage(deploymentID: id, index: 0, name: "WAIT", withJSON: #"{"duration":"1h"}"#, status: .suspended, attempt: 1),
            ])
        }
        try await store.commitPlan(PlanOutcome(triggerID: 0, applications: [], deployments: details))
        let resume = now.addingTimeInterval(3600).timeIntervalSince1970
        _ = try sh(["sqlite3", "-cmd", ".timeout 10000", DataLayout.database(dataDir),
                    "UPDATE stages SET resume_at = \(resume), started_at = \(now.timeIntervalSince1970)"])
        return details.map(\.deployment.id)
    }

    /// A counter's value from /metrics (summed over its label sets), nil before it first counts.
    static func counter(_ server: ServerProcess, _ name: String) async throws -> Int? {
        let text = String(decoding: try await server.request("GET", "/metrics", auth: false).data, as: UTF8.self)
        let values = text.split(separator: "\n").filter { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        return values.isEmpty ? nil : Int(values.reduce(0, +))
    }
}
