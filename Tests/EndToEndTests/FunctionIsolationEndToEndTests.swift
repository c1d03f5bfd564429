import Foundation
import GantryAPI
import GantrySupport
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import XCTest

/// A pushed script cannot read what the server keeps for itself: a real `gantry serve` (as root, as in the
/// container and systemd examples) with default settings, a real push, a SCRIPT_RUN stage that tries.
final class FunctionIsolationEndToEndTests: XCTestCase {
    func testAPushedScriptCannotReadTheServersConfigDatabaseSecretsOrEnvironment() async throws {
        guard geteuid() == 0 else { throw XCTSkip("function isolation needs a server running as root") }
        // Outside /tmp: a function's private /tmp alone would hide everything under it, and what this test must
        // show is that the server's own paths are hidden wherever they are.
        let root = "/var/tmp/gantry-isolation-e2e-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Another function's secret, world-readable: only the hiding keeps it from the script.
        let secretFile = root + "/notify-token"
        try "notify-token-value".write(toFile: secretFile, atomically: true, encoding: .utf8)
        chmod(secretFile, 0o644)
        let git = try GitFixture(root: root)
        let functions = try writeScriptFunctions(in: root, [("notify", "stages: [NOTIFY]\nsecrets: [notify-token]",
                                                            "cat > /dev/null")])
        let server = try ServerProcess(root: root, git: git, functionsDir: functions, extraYAML: """
            secrets:
              - {name: notify-token, value: "file:\(secretFile)"}
            """)
        try git.installHook(url: server.url + "/hooks/demo")
        try await server.start()
        defer { server.stop() }
        chmod(server.configPath, 0o644)
        let database = DataLayout.database(server.dataDir)
        chmod(database, 0o644)
        let pid = try XCTUnwrap(server.process?.processIdentifier)

        // The server's pid travels with the sources (which the script is given), not through a hidden path.
        try git.write("probe/server-pid", "\(pid)\n")
        try git.write("probe/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: probe
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with:
                      run: |
                        for f in \(server.configPath) \(database) \(secretFile) /proc/$(cat server-pid)/environ; do
                          if out=$(cat "$f" 2>&1); then echo "read $f (${#out} bytes)"; else echo "cannot read $f"; fi
                        done
                        echo "running as uid $(id -u)"
            """)
        let id = try await server.deploymentID(commit: try git.commitAndPush("try to read the server's files").commit)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        let log = stage(done, 0)?.logs ?? []
        for path in [server.configPath, database, secretFile, "/proc/\(pid)/environ"] {
            XCTAssertTrue(log.contains("cannot read \(path)"), "\(path) was readable: \(log)")
        }
        XCTAssertFalse(log.contains { $0.hasPrefix("read ") }, "\(log)")
        let uid = try XCTUnwrap(log.first { $0.hasPrefix("running as uid ") }.flatMap { Int($0.dropFirst(15)) }, "\(log)")
        XCTAssertNotEqual(uid, 0, "the script ran as root")

        // What the start-up check found, for people looking at /healthz.
        let health = try await server.request("GET", "/healthz", auth: false).decode(Health.self)
        XCTAssertEqual(health.status, "ok")
        let isolation = try XCTUnwrap(health.details.functionIsolation, "\(health)")
        XCTAssertEqual(isolation.mode, "required", "\(health)")
        XCTAssertEqual(isolation.active, true, "\(health)")
        XCTAssertEqual(Int(isolation.uid), uid, "\(health)")
    }

    /// The start-up check: a data dir the function user cannot reach (its parent is 0700) makes every invocation
    /// impossible, so the server refuses to start, unless told `functions.isolation: off`, and then /healthz says
    /// why isolation would fail.
    func testAServerThatCannotIsolateItsFunctionsRefusesToStartUnlessToldOff() async throws {
        guard geteuid() == 0 else { throw XCTSkip("the check that passes here needs root") }
        let root = "/var/tmp/gantry-isolation-locked-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = #"server: {listen: "127.0.0.1:0", dataDir: ./data}"#
        try server.write(toFile: root + "/gantry.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try await GantryServer(configPath: root + "/gantry.yaml").assemble()
            XCTFail("the server started although no function could run isolated")
        } catch {
            XCTAssertTrue("\(error)".contains("function isolation cannot be set up on this machine"), "\(error)")
            XCTAssertTrue("\(error)".contains("the function cannot enter \(root)/data/invocations/"), "\(error)")
        }

        try (server + "\nfunctions: {isolation: off}\n").write(toFile: root + "/gantry.yaml", atomically: true, encoding: .utf8)
        let parts = try await GantryServer(configPath: root + "/gantry.yaml").assemble()
        try await parts.app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let health = try JSONDecoder().decode(Health.self, from: Data(buffer: response.body))
                XCTAssertEqual(health.status, "ok")
                let isolation = health.details.functionIsolation
                XCTAssertEqual(isolation?.mode, "off", "\(health)")
                XCTAssertEqual(isolation?.active, false, "\(health)")
                XCTAssertTrue(isolation?.problem?.contains("the function cannot enter") == true, "\(health)")
            }
        }
    }
}
