import Foundation
import FunctionKit
import GantrySupport
import LambdaPlatform
import MotoSupport
import XCTest

/// LambdaApp deployments end to end: pushes to a bare repository, a real `gantry serve`, the built-in lambda
/// function, and a real moto_server (one per class) standing in for AWS Lambda.
final class LambdaPipelineTests: MotoTestCase {

    /// A server on `moto` (or `endpoint` in front of it) and a LambdaApp with `stages` as its pipeline, whose first
    /// push has been deployed: the function exists with its alias at version 1, 100%.
    func firstPushDeployed(_ prefix: String, stages pipeline: String,
                           endpoint: String? = nil) async throws -> (git: GitFixture, server: ServerProcess, function: String) {
        let (git, server, _) = try await launchLambdaServer(moto: moto, endpoint: endpoint)
        let fn = "e2e-\(prefix)-\(UUID().uuidString.prefix(6).lowercased())"
        try writeLambdaApp(git, function: fn, role: moto.roleARN, stages: pipeline)
        let first = try await server.waitForDeployment(try await server.deploymentID(commit: try git.commitAndPush("first").commit))
        XCTAssertEqual(first.status, "SUCCESS", server.logText())
        XCTAssertEqual(first.stages.map(\.name), ["LAMBDA_SYNC", "ROLLBACK"])
        XCTAssertEqual(try moto.versions(fn), ["1"])
        XCTAssertEqual(try moto.alias(fn), AliasRouting(version: "1"), "first push: version 1 with 100%")
        try git.write("fn/src/app.py", "def handler(event, context):\n    return 'v2'\n")
        return (git, server, fn)
    }

    func testFirstPushSyncsThenEachPromoteShiftsTheAliasWeights() async throws {
        let (git, server, fn) = try await firstPushDeployed("steps", stages: """
              - name: LAMBDA_CANARY_ROLLOUT
              - name: WAIT_APPROVAL
              - name: LAMBDA_PROMOTE
                with: {percent: 10}
              - name: WAIT_APPROVAL
              - name: LAMBDA_PROMOTE
                with: {percent: 50}
              - name: WAIT_APPROVAL
              - name: LAMBDA_PROMOTE
                with: {percent: 100}
            """)
        let id = try await server.deploymentID(commit: try git.commitAndPush("second").commit)
        let expected: [(gate: Int, routing: AliasRouting)] = [
            (1, AliasRouting(version: "1")),                          // after the canary: published, 0%
            (3, AliasRouting(version: "1", weights: ["2": 0.1])),     // after PROMOTE 10
            (5, AliasRouting(version: "1", weights: ["2": 0.5])),     // after PROMOTE 50
        ]
        for (gate, routing) in expected {
            _ = try await eventually("stage \(gate) (WAIT_APPROVAL) to wait", timeout: 60) {
                stage(try await server.deployment(id), gate)?.status == "SUSPENDED" ? true : nil
            }
            XCTAssertEqual(try moto.alias(fn), routing, "before approving stage \(gate)")
            XCTAssertEqual(try moto.versions(fn), ["1", "2"])
            let approved = try await server.request("POST", "/api/v1/deployments/\(id)/approve", body: Data("{}".utf8))
            XCTAssertEqual(approved.status, 202)
        }
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(try moto.alias(fn), AliasRouting(version: "2"), "version 2 with no extra weights")
        let logs = stage(done, 6)?.logText ?? ""
        XCTAssertTrue(logs.contains("alias Service now sends version 2 (100%)"), logs)
        server.stop()
    }

    func testFailingStageAfterPromote50RollsTheAliasBackToVersion1() async throws {
        let (git, server, fn) = try await firstPushDeployed("rollback", stages: """
              - name: LAMBDA_CANARY_ROLLOUT
              - name: LAMBDA_PROMOTE
                with: {percent: 10}
              - name: LAMBDA_PROMOTE
                with: {percent: 50}
              - name: SCRIPT_RUN
                with: {run: "echo 'error rate too high' >&2; exit 3"}
              - name: LAMBDA_PROMOTE
                with: {percent: 100}
            """)
        let id = try await server.deploymentID(commit: try git.commitAndPush("second").commit)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "FAILURE", server.logText())
        XCTAssertEqual(done.stages.map { "\($0.name) \($0.status)" }, [
            "LAMBDA_CANARY_ROLLOUT SUCCESS", "LAMBDA_PROMOTE SUCCESS", "LAMBDA_PROMOTE SUCCESS", "SCRIPT_RUN FAILURE",
            "LAMBDA_PROMOTE CANCELLED", "ROLLBACK SUCCESS"])
        let promoted = stage(done, 2)?.logText ?? ""
        XCTAssertTrue(promoted.contains("alias Service now sends version 1 (50%) + version 2 (50%)"), promoted)
        XCTAssertEqual(try moto.alias(fn), AliasRouting(version: "1"), "back to version 1, no weights")
        XCTAssertEqual(stage(done, 5)?.message, "alias Service restored: version 1 (100%)")
        server.stop()
    }

    /// `kill -9` of the server while the canary's PublishVersion has reached AWS but its answer has not come
    /// back: after the restart the stage is re-invoked, finds that version, and the pipeline finishes.
    func testKill9BetweenPublishAndPromotePublishesOnceAndFinishes() async throws {
        let proxy = try FaultProxy(upstreamPort: moto.port)
        defer { proxy.stop() }
        let (git, server, fn) = try await firstPushDeployed("crash", stages: """
              - name: LAMBDA_CANARY_ROLLOUT
              - name: LAMBDA_PROMOTE
                with: {percent: 100}
            """, endpoint: proxy.url)
        let publish = "POST /2015-03-31/functions/\(fn)/versions"
        proxy.holdAnswer(toRequestContaining: publish)
        let id = try await server.deploymentID(commit: try git.commitAndPush("second").commit)
        _ = try await eventually("the canary's PublishVersion to reach AWS", timeout: 60) { proxy.isHolding ? true : nil }
        server.kill9()
        proxy.releaseHeld()
        XCTAssertEqual(try moto.versions(fn), ["1", "2"], "the publish took effect before the crash")
        try await server.start()

        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(stage(done, 0)?.attempts, 2, "the canary was re-invoked after the restart")
        XCTAssertEqual(try moto.versions(fn), ["1", "2"], "exactly one new version")
        XCTAssertEqual(proxy.count(publish), 2, "one publish per deployment: \(proxy.requestLines)")
        XCTAssertEqual(try moto.alias(fn), AliasRouting(version: "2"))
        let logs = stage(done, 0)?.logText ?? ""
        XCTAssertTrue(logs.contains("version 2 was already published by an earlier attempt"), logs)
        server.stop()
    }

    /// A platform whose key AWS does not know (a second moto that checks signatures) and an app with an unknown
    /// role fail with AWS's words, while another app in the same push deploys.
    func testWrongCredentialsAndUnknownRoleFailWithAWSMessageWhileOthersDeploy() async throws {
        let checking = try MotoServer(authenticated: true)
        defer { checking.stop() }
        let (git, server, _) = try await launchLambdaServer(moto: moto, extraPlatform: """
              - name: aws-wrong-key
                kind: lambda
                region: \(checking.region)
                endpoint: \(checking.endpoint)
                credentials: file:/dev/null
            """, wrongKeyFile: true)
        let tag = UUID().uuidString.prefix(6).lowercased()
        try writeLambdaApp(git, folder: "wrongkey", function: "e2e-wrongkey-\(tag)", role: checking.roleARN, platform: "aws-wrong-key")
        try writeLambdaApp(git, folder: "norole", function: "e2e-norole-\(tag)", role: "arn:aws:iam::123456789012:role/nobody",
                           platform: "aws-test")
        try writeLambdaApp(git, folder: "good", function: "e2e-good-\(tag)", role: moto.roleARN, platform: "aws-test")
        let commit = try git.commitAndPush("three apps").commit
        let ids = try await eventually("three deployments", timeout: 30) { () -> [String: String]? in
            let all = try await server.deployments().filter { $0.commit == commit }
            guard all.count == 3 else { return nil }
            return Dictionary(uniqueKeysWithValues: all.map { ($0.application, $0.id) })
        }
        let wrongKey = try await server.waitForDeployment(try XCTUnwrap(ids["e2e-wrongkey-\(tag)-app"]))
        XCTAssertEqual(wrongKey.status, "FAILURE")
        let refused = try XCTUnwrap(stage(wrongKey, 0))
        XCTAssertTrue(refused.message.contains("InvalidClientTokenId: The security token included in the request is invalid."),
                      "\(refused)")
        let noRole = try await server.waitForDeployment(try XCTUnwrap(ids["e2e-norole-\(tag)-app"]))
        XCTAssertEqual(noRole.status, "FAILURE")
        let unassumable = try XCTUnwrap(stage(noRole, 0))
        XCTAssertTrue(unassumable.message.contains("The role defined for the function cannot be assumed by Lambda."),
                      "\(unassumable)")
        XCTAssertEqual(stage(noRole, 1)?.message, "nothing to roll back: function e2e-norole-\(tag) does not exist")
        let good = try await server.waitForDeployment(try XCTUnwrap(ids["e2e-good-\(tag)-app"]))
        XCTAssertEqual(good.status, "SUCCESS", server.logText())
        XCTAssertEqual(try moto.alias("e2e-good-\(tag)"), AliasRouting(version: "1"))
        let health = try await server.request("GET", "/healthz", auth: false)
        XCTAssertEqual(health.status, 200)
        server.stop()
    }
}

/// A server whose platform `aws-test` is `moto` (or `endpoint`, e.g. a proxy in front of it), with credentials from
/// a file; `wrongKeyFile` points `file:/dev/null` platforms at a file holding a key moto does not know.
func launchLambdaServer(moto: MotoServer, endpoint: String? = nil, extraPlatform: String = "",
                        wrongKeyFile: Bool = false) async throws -> (git: GitFixture, server: ServerProcess, marks: String) {
    let dir = try makeTempDir("lambda-creds")
    let good = dir + "/good", wrong = dir + "/wrong"
    try "[default]\naws_access_key_id = \(moto.credentials.accessKeyID)\naws_secret_access_key = \(moto.credentials.secretAccessKey)\n"
        .write(toFile: good, atomically: true, encoding: .utf8)
    try "[default]\naws_access_key_id = AKIAUNKNOWNKEY\naws_secret_access_key = not-a-real-secret\n"
        .write(toFile: wrong, atomically: true, encoding: .utf8)
    let yaml = """
        platforms:
          - name: aws-test
            kind: lambda
            region: \(moto.region)
            endpoint: \(endpoint ?? moto.endpoint)
            credentials: file:\(good)
        \(wrongKeyFile ? extraPlatform.replacingOccurrences(of: "file:/dev/null", with: "file:\(wrong)") : extraPlatform)
        """
    return try await launchServer(extraYAML: yaml)
}

/// A LambdaApp in `folder` of the work tree: app config (with `stages` as its pipeline), manifest, code.
func writeLambdaApp(_ git: GitFixture, folder: String = "fn", function: String, role: String, platform: String? = nil,
                    stages: String? = nil) throws {
    try git.write("\(folder)/app.pipecd.yaml", """
        apiVersion: pipecd.dev/v1beta1
        kind: LambdaApp
        spec:
          name: \(function)-app
          \(platform.map { "platform: \($0)" } ?? "")
          input:
            functionManifestFile: function.yaml
        \(stages.map { "  pipeline:\n    stages:\n" + indented($0, by: 2) } ?? "")
        """)
    try git.write("\(folder)/function.yaml", """
        apiVersion: pipecd.dev/v1beta1
        kind: LambdaFunction
        spec:
          name: \(function)
          role: \(role)
          runtime: python3.12
          handler: app.handler
          source: {path: src}
          memory: 128
          timeout: 10
        """)
    try git.write("\(folder)/src/app.py", "def handler(event, context):\n    return 'v1'\n")
}

private func indented(_ text: String, by spaces: Int) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { String(repeating: " ", count: spaces) + $0 }.joined(separator: "\n")
}
