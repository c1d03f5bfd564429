import Foundation
import GantryAPI
import GantrySupport
import SQLiteStore
import Store
import XCTest

/// A function upgraded in the middle of a deployment: the interrupted stage is re-invoked with the new version,
/// which resumes the stored checkpoint only if its `checkpointSchemas` lists the checkpoint's schema.
final class CheckpointSchemaUpgradeTests: XCTestCase {
    func testNewVersionThatCannotReadTheCheckpointFailsCheckpointIncompatible() async throws {
        let run = try await upgradeMidStage(newSchemas: "[2]")
        let done = run.deployment
        XCTAssertEqual(done.status, "FAILURE", run.server.logText())
        let s = try XCTUnwrap(stage(done, 0))
        XCTAssertEqual(s.status, "FAILURE")
        XCTAssertEqual(s.errorType, "CheckpointIncompatible", "\(s)")
        let message = s.message
        XCTAssertTrue(message.contains("checkpoint schema 1"), message)
        XCTAssertTrue(message.contains("checkpointSchemas [2]"), message)
        XCTAssertTrue(done.statusReason.contains("CheckpointIncompatible"), "\(done)")
        // The new version was never run on a checkpoint it cannot read.
        XCTAssertEqual(run.invocations, 1)
        XCTAssertEqual(run.attempts.count, 2, "\(run.attempts)")
        XCTAssertEqual(run.attempts.first?.status, "INTERRUPTED")
        XCTAssertEqual(run.attempts.last?.errorType, "CheckpointIncompatible")
        XCTAssertNotEqual(run.attempts.first?.functionVersion, run.attempts.last?.functionVersion,
                          "the refusal is recorded against the new version")
        run.server.stop()
    }

    func testNewVersionThatStillReadsTheOldSchemaResumesFromTheCheckpoint() async throws {
        let run = try await upgradeMidStage(newSchemas: "[1, 2]")
        let done = run.deployment
        XCTAssertEqual(done.status, "SUCCESS", run.server.logText())
        let logs = stage(done, 0)?.logText ?? ""
        XCTAssertTrue(logs.contains("version 2 resumed from step applied"), logs)
        XCTAssertEqual(run.invocations, 2)
        XCTAssertEqual(run.attempts.count, 2, "\(run.attempts)")
        XCTAssertEqual(run.attempts.last?.status, "SUCCESS")
        XCTAssertNotEqual(run.attempts.first?.functionVersion, run.attempts.last?.functionVersion)
        run.server.stop()
    }

    /// Version 1 checkpoints with schema 1 and hangs; the server is killed once that checkpoint is stored, the
    /// function folder becomes version 2 (declaring `newSchemas`) while it is down, and the server starts again.
    private func upgradeMidStage(newSchemas: String) async throws
        -> (server: ServerProcess, deployment: DeploymentView, attempts: [InvocationView], invocations: Int) {
        let (git, server, marks) = try await launchServer(functionsDir: {
            try Self.writeFunction(version: 1, schemas: "[1]", in: $0)
        })
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: upgraded
              pipeline:
                stages:
                  - name: UPGRADED
            """)
        let commit = try git.commitAndPush("a stage that checkpoints").commit
        let id = try await server.deploymentID(commit: commit)
        let store = try SQLiteStore(path: DataLayout.database(server.dataDir))
        let stored = try await eventually("version 1's checkpoint to be stored") { () -> Stage? in
            let s = try await store.deployment(id: id)?.stages.first
            return s?.status == .running && s?.checkpoint != nil ? s : nil
        }
        XCTAssertEqual(stored.checkpointSchema, 1)
        server.kill9()
        _ = try Self.writeFunction(version: 2, schemas: newSchemas, in: server.root)
        try await server.start()

        let done = try await server.waitForDeployment(id)
        let attempts = try await server.attempts(id, stage: 0)
        let invocations = ((try? String(contentsOfFile: marks + "/invocations", encoding: .utf8)) ?? "")
            .split(separator: "\n").count
        return (server, done, attempts, invocations)
    }

    /// Both versions resume from a stored checkpoint when they are given one; without one they checkpoint
    /// (schema 1) and hang until the server is killed.
    private static func writeFunction(version: Int, schemas: String, in root: String) throws -> String {
        try writeScriptFunctions(in: root, [("upgraded", "stages: [UPGRADED]\ncheckpointSchemas: \(schemas)", """
            event=$(cat)
            echo invoked >> \(root)/marks/invocations
            if echo "$event" | grep -q '"checkpoint":{"step":"applied"}'; then
              echo "version \(version) resumed from step applied" >&2
              echo '{"result": {"status": "succeeded", "message": "resumed"}}'
              exit 0
            fi
            echo '{"checkpoint": {"step": "applied"}, "schema": 1}'
            sleep 1000
            """)])
    }
}
