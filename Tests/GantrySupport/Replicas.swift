import Foundation
import GantryAPI
import XCTest

/// Several real `gantry serve` processes sharing one fresh database on the test PostgreSQL, each with its own data
/// dir, all bound to the same repository and webhook secret. A short lease keeps failover tests quick.
package struct ReplicaSet {
    package let git: GitFixture
    package let servers: [ServerProcess]
    package let marks: String
    package let databaseURL: String

    package static func launch(_ count: Int = 2, leaseDuration: String = "3s", hookTo: Int? = 0,
                       functionsDir: ((String) throws -> String)? = nil) async throws -> ReplicaSet {
        let root = try makeTempDir("gantry-replicas")
        let git = try GitFixture(root: root)
        let marks = root + "/marks"
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777])
        let url = try PostgresCluster.get().makeDatabase()
        let functions = try functionsDir?(root)
        var servers: [ServerProcess] = []
        for i in 0..<count {
            let dir = root + "/replica-\(i)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            servers.append(try ServerProcess(root: dir, git: git, functionsDir: functions,
                                             serverYAML: "database: \(url)\nleaseDuration: \(leaseDuration)"))
        }
        if let hookTo { try git.installHook(url: servers[hookTo].url + "/hooks/demo") }
        // Started together, as a rollout would: they migrate the one database once between them.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in servers { group.addTask { try await s.start() } }
            try await group.waitForAll()
        }
        return ReplicaSet(git: git, servers: servers, marks: marks, databaseURL: url)
    }

    /// `GET /api/v1/replicas` of one server: id -> stages held.
    package func replicas(via server: ServerProcess) async throws -> [String: [String]] {
        let list = try await server.get(ReplicaList.self, "/api/v1/replicas").replicas
        return Dictionary(list.map { ($0.id, $0.stagesHeld) }) { first, _ in first }
    }

    /// Each server's replica id (kept in its data dir).
    package func replicaID(_ server: ServerProcess) throws -> String {
        try String(contentsOfFile: server.dataDir + "/replica-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    package func lines(_ file: String) -> [String] {
        ((try? String(contentsOfFile: marks + "/" + file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    package func stopAll() { servers.forEach { $0.stop() } }

    /// One app config per name, a pipeline of SCRIPT_RUN stages running `scripts` in order (with MARKS set to the
    /// marks dir; "APP" in a script is replaced by the app's name).
    package func writePipelines(_ apps: [String], scripts: [String]) throws {
        for app in apps {
            var yaml = "apiVersion: gantry.dev/v1\nspec:\n  name: \(app)\n  pipeline:\n    stages:\n"
            for script in scripts {
                yaml += "      - name: SCRIPT_RUN\n        with:\n          env: {MARKS: \(marks)}\n          run: |\n"
                for line in script.replacingOccurrences(of: "APP", with: app).split(separator: "\n") {
                    yaml += "            \(line)\n"
                }
            }
            try git.write("\(app)/app.gantry.yaml", yaml)
        }
    }
}
