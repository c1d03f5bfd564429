import Foundation
import GantrySupport
import Store
import XCTest

/// `gantry store migrate`: a SQLite store with a finished, a running and a suspended deployment moves to
/// PostgreSQL with counts and checksums verified, the target is never overwritten, and a server on PostgreSQL
/// finishes the running and the suspended deployment.
final class StoreMigrateTests: XCTestCase {
    func testMigrateFinishedRunningAndSuspendedDeploymentsThenResumeOnPostgreSQL() async throws {
        let (git, server, marks) = try await launchServer()
        try git.write("done/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec: {name: done, pipeline: {stages: [{name: SCRIPT_RUN, with: {run: echo ok}}]}}
            """)
        try git.write("busy/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: busy
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with:
                      env: {MARKS: \(marks)}
                      run: |
                        echo "$GANTRY_ATTEMPT" >> "$MARKS/busy-starts"
                        while [ ! -f "$MARKS/release" ]; do sleep 0.1; done
            """)
        try git.write("waiting/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec: {name: waiting, pipeline: {stages: [{name: WAIT, with: {duration: 6s}}]}}
            """)
        let commit = try git.commitAndPush("three apps").commit
        var byApp: [String: String] = [:]
        _ = try await eventually("three deployments") {
            for d in try await server.deployments() where d.commit == commit {
                byApp[d.application] = d.id
            }
            return byApp.count == 3 ? true : nil
        }
        _ = try await server.waitForDeployment(byApp["done"]!)
        _ = try await eventually("busy to run and waiting to suspend") {
            let busy = stage(try await server.deployment(byApp["busy"]!), 0)?.status
            let waiting = stage(try await server.deployment(byApp["waiting"]!), 0)?.status
            return busy == "RUNNING" && waiting == "SUSPENDED" && FileManager.default.fileExists(atPath: marks + "/busy-starts") ? true : nil
        }
        server.kill9()

        let url = try PostgresCluster.get().makeDatabase()
        let gantry = productsDirectory + "/gantry"
        let sqlite = "sqlite:" + DataLayout.database(server.dataDir)
        let out = try sh([gantry, "store", "migrate", "--from", sqlite, "--to", url])
        for table in CopiedTables.all.map(\.table) { XCTAssertTrue(out.contains("\(table): "), out) }
        XCTAssertTrue(out.contains("deployments: 3 rows"), out)
        XCTAssertEqual(out.components(separatedBy: "verified").count - 1, CopiedTables.all.count, out)
        // A second run finds the target non-empty and writes nothing.
        XCTAssertThrowsError(try sh([gantry, "store", "migrate", "--from", sqlite, "--to", url])) { error in
            XCTAssertTrue("\(error)".contains("not empty"), "\(error)")
        }

        // The same data dir (so the same replica id), now on PostgreSQL.
        let moved = try ServerProcess(root: server.root, git: git, serverYAML: "database: \(url)")
        try await moved.start()
        defer { moved.stop() }
        FileManager.default.createFile(atPath: marks + "/release", contents: nil)
        for app in ["done", "busy", "waiting"] {
            let d = try await moved.waitForDeployment(byApp[app]!, timeout: 60)
            XCTAssertEqual(d.status, "SUCCESS", "\(app): " + moved.logText())
        }
        let busy = try await moved.deployment(byApp["busy"]!)
        XCTAssertEqual(stage(busy, 0)?.attempts, 2, "re-invoked after the move")
        let all = try await moved.deployments()
        XCTAssertEqual(all.filter { $0.commit == commit }.count, 3)
    }
}
