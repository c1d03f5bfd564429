import Foundation
import FunctionKit
import LambdaPlatform
import MotoSupport
import XCTest

/// The built `gantry-fn-lambda` driven directly with crafted events against a real moto_server (one per class),
/// through a fault-injecting proxy where a test needs a failure at an exact point.
final class LambdaFunctionTests: MotoTestCase {
    var env: [String: String] { moto.credentialEnvironment }

    func app(_ manifestExtra: String = "") throws -> LambdaAppFixture {
        try LambdaAppFixture(roleARN: moto.roleARN, platform: moto.platform(), manifestExtra: manifestExtra)
    }

    func run(_ event: FunctionEvent, file: StaticString = #filePath, line: UInt = #line) throws -> LambdaFunctionRun.Outcome {
        let outcome = try LambdaFunctionRun.run(event, environment: env)
        XCTAssertEqual(outcome.exitCode, 0, outcome.log, file: file, line: line)
        return outcome
    }

    func testSyncCreatesTheFunctionWithAliasAtVersionOneAndPublishesOnlyWhatChanged() throws {
        let app = try app()
        let first = try run(app.event("LAMBDA_SYNC", deployment: "d1"))
        XCTAssertEqual(first.result?.status, .succeeded, first.log)
        XCTAssertEqual(first.result?.message, "\(app.functionName) version 1 serves 100% through alias Service")
        XCTAssertEqual(try moto.versions(app.functionName), ["1"])
        XCTAssertEqual(try moto.alias(app.functionName), AliasRouting(version: "1"))
        XCTAssertEqual(first.outputs, ["function": app.functionName, "alias": "Service", "version": "1"])
        XCTAssertEqual(first.lastCheckpoint?["version"], .string("1"))
        XCTAssertEqual(first.lastCheckpoint?["originalAlias"], .null)
        let function = try XCTUnwrap(moto.lambda().getFunction(app.functionName))
        XCTAssertEqual(function.tags["team"], "gantry")
        XCTAssertEqual(function.configuration["Environment"]?["Variables"]?["STAGE"], .string("test"))

        // Nothing changed: AWS keeps version 1, and so does the alias.
        let same = try run(app.event("LAMBDA_SYNC", deployment: "d2"))
        XCTAssertEqual(same.result?.status, .succeeded, same.log)
        XCTAssertTrue(same.log.contains("code of \(app.functionName) is unchanged"), same.log)
        XCTAssertEqual(try moto.versions(app.functionName), ["1"])

        try app.setCode("v2")
        let changed = try run(app.event("LAMBDA_SYNC", deployment: "d3"))
        XCTAssertEqual(changed.result?.status, .succeeded, changed.log)
        XCTAssertEqual(try moto.versions(app.functionName), ["1", "2"])
        XCTAssertEqual(try moto.alias(app.functionName), AliasRouting(version: "2"))
        XCTAssertTrue(changed.log.contains("alias Service before this deployment: version 1 (100%)"), changed.log)
    }

    func testCanaryPromoteAndRollbackRestoreTheAliasExactlyAsItWas() throws {
        let app = try app()
        XCTAssertEqual(try run(app.event("LAMBDA_SYNC", deployment: "s1")).result?.status, .succeeded)
        try app.setCode("v2")
        XCTAssertEqual(try run(app.event("LAMBDA_SYNC", deployment: "s2")).result?.status, .succeeded)
        // Someone left the alias sharing traffic: the rollback target includes that weight.
        let before = AliasRouting(version: "2", weights: ["1": 0.2])
        try moto.lambda().setAlias(app.functionName, "Service", to: before)

        try app.setCode("v3")
        let canary = try run(app.event("LAMBDA_CANARY_ROLLOUT", deployment: "p1", index: 0))
        XCTAssertEqual(canary.result?.status, .succeeded, canary.log)
        XCTAssertEqual(try moto.versions(app.functionName), ["1", "2", "3"])
        XCTAssertEqual(try moto.alias(app.functionName), before, "the canary publishes with 0% traffic")
        for (index, percent, expected) in [(1, 10.0, AliasRouting(version: "2", weights: ["3": 0.1])),
                                           (2, 50.0, AliasRouting(version: "2", weights: ["3": 0.5]))] {
            let promote = try run(app.event("LAMBDA_PROMOTE", deployment: "p1", index: index, with: .object(["percent": .number(percent)])))
            XCTAssertEqual(promote.result?.status, .succeeded, promote.log)
            XCTAssertEqual(try moto.alias(app.functionName), expected)
        }
        let rollback = try run(app.event("ROLLBACK", deployment: "p1", index: 4))
        XCTAssertEqual(rollback.result?.status, .succeeded, rollback.log)
        XCTAssertEqual(try moto.alias(app.functionName), before)
        XCTAssertEqual(rollback.result?.message, "alias Service restored: version 2 (80%) + version 1 (20%)")
        // A rollback of a deployment that never got to record anything leaves the alias alone.
        let other = try run(app.event("ROLLBACK", deployment: "never-ran", index: 4))
        XCTAssertEqual(other.result?.message, "nothing to roll back: this deployment changed nothing of \(app.functionName)")
        XCTAssertEqual(try moto.alias(app.functionName), before)
    }

    func testPromoteWithoutCanaryAndBadPercentFailClearly() throws {
        let app = try app()
        XCTAssertEqual(try run(app.event("LAMBDA_SYNC", deployment: "s1")).result?.status, .succeeded)
        let promote = try run(app.event("LAMBDA_PROMOTE", deployment: "other", index: 1, with: .object(["percent": .string("10%")])))
        XCTAssertEqual(promote.result?.status, .failed)
        XCTAssertEqual(promote.result?.message, "no version of \(app.functionName) was published by this deployment: "
                       + "LAMBDA_CANARY_ROLLOUT must run before LAMBDA_PROMOTE")
        XCTAssertEqual(promote.result?.error?.type, "NothingPublished")
        let bad = try run(app.event("LAMBDA_PROMOTE", deployment: "s1", index: 1, with: .object(["percent": .number(150)])))
        XCTAssertEqual(bad.result?.message, "with.percent must be a number from 0 to 100, not 150")
        XCTAssertEqual(try moto.alias(app.functionName), AliasRouting(version: "1"))
    }

    /// The function is killed after PublishVersion reached AWS and before it heard the answer: the next attempt
    /// (with the last checkpoint, as the host re-invokes it) finds that version instead of publishing again.
    /// For LAMBDA_SYNC the kill also falls between the publish and the alias update.
    func testKilledRightAfterPublishDoesNotPublishTwice() throws {
        let app = try app()
        XCTAssertEqual(try run(app.event("LAMBDA_SYNC", deployment: "s1")).result?.status, .succeeded)
        let proxy = try FaultProxy(upstreamPort: moto.port)
        defer { proxy.stop() }
        let publish = "POST /2015-03-31/functions/\(app.functionName)/versions"
        let platform = moto.platform(endpoint: proxy.url)
        for (deployment, stage, code, version) in [("c1", "LAMBDA_CANARY_ROLLOUT", "v2", "2"), ("c2", "LAMBDA_SYNC", "v3", "3")] {
            try app.setCode(code)
            let publishesBefore = proxy.count(publish)
            proxy.holdAnswer(toRequestContaining: publish)
            let first = try LambdaFunctionRun(event: app.event(stage, deployment: deployment, platform: platform), environment: env)
            let deadline = Date().addingTimeInterval(30)
            while !proxy.isHolding && Date() < deadline { usleep(10_000) }
            XCTAssertTrue(proxy.isHolding, "the publish never reached the proxy")
            first.kill9()
            proxy.releaseHeld()
            let cut = try first.outcome()
            XCTAssertNil(cut.result)
            XCTAssertEqual(cut.lastCheckpoint?["codeSynced"], .bool(true))
            XCTAssertEqual(try moto.versions(app.functionName).last, version, "moto published before the kill")

            let second = try run(app.event(stage, deployment: deployment, attempt: 2, checkpoint: cut.lastCheckpoint,
                                           platform: platform))
            XCTAssertEqual(second.result?.status, .succeeded, second.log)
            XCTAssertTrue(second.log.contains("version \(version) was already published by an earlier attempt"), second.log)
            XCTAssertEqual(proxy.count(publish) - publishesBefore, 1, "\(proxy.requestLines)")
        }
        XCTAssertEqual(try moto.versions(app.functionName), ["1", "2", "3"])
        XCTAssertEqual(try moto.alias(app.functionName), AliasRouting(version: "3"))
        // c2's record replaced c1's on the function: promoting c1 now is refused rather than acting on another
        // deployment's version.
        let stale = try run(app.event("LAMBDA_PROMOTE", deployment: "c1", index: 1, with: .object(["percent": .number(100)])))
        XCTAssertEqual(stale.result?.status, .failed)
    }

    func testThrottlingIsRetriedAndPersistentServerErrorsFailRetryableWithAWSMessage() throws {
        let app = try app()
        let proxy = try FaultProxy(upstreamPort: moto.port)
        defer { proxy.stop() }
        proxy.answerNext(2, status: 429, errorType: "TooManyRequestsException", message: "Rate exceeded")
        let throttled = try run(app.event("LAMBDA_SYNC", deployment: "t1", platform: moto.platform(endpoint: proxy.url)))
        XCTAssertEqual(throttled.result?.status, .succeeded, throttled.log)
        XCTAssertTrue(throttled.log.contains("TooManyRequestsException from GetFunction: Rate exceeded; retrying in"), throttled.log)
        XCTAssertTrue(throttled.log.contains("(attempt 3 of 6)"), throttled.log)

        let getFunction = "GET /2015-03-31/functions/\(app.functionName)"
        let before = proxy.requestLines.filter { $0 == getFunction }.count
        proxy.answerNext(6, status: 503, errorType: "ServiceException", message: "Lambda is having a bad day")
        let down = try run(app.event("LAMBDA_SYNC", deployment: "t2", platform: moto.platform(endpoint: proxy.url)))
        XCTAssertEqual(down.result?.status, .failed)
        XCTAssertEqual(down.result?.message, "AWS GetFunction failed: ServiceException: Lambda is having a bad day (HTTP 503)")
        XCTAssertEqual(proxy.requestLines.filter { $0 == getFunction }.count - before, 6, "every one of the 6 tries reached the proxy")
        XCTAssertEqual(down.result?.error, FunctionError(type: "ServiceException", message: down.result?.message, retryable: true))
    }

    func testUnknownRoleFailsWithAWSMessageAndRollbackFindsNothingToUndo() throws {
        let app = try LambdaAppFixture(roleARN: "arn:aws:iam::123456789012:role/does-not-exist", platform: moto.platform())
        let sync = try run(app.event("LAMBDA_SYNC", deployment: "r1"))
        XCTAssertEqual(sync.result?.status, .failed)
        XCTAssertTrue(sync.result?.message?.hasPrefix("AWS CreateFunction failed: InvalidParameterValueException: "
                      + "The role defined for the function cannot be assumed by Lambda. (HTTP 400") == true, sync.result?.message ?? "")
        XCTAssertEqual(sync.result?.error?.type, "InvalidParameterValueException")
        XCTAssertEqual(sync.result?.error?.retryable, false)
        let rollback = try run(app.event("ROLLBACK", deployment: "r1", index: 1))
        XCTAssertEqual(rollback.result?.message, "nothing to roll back: function \(app.functionName) does not exist")
    }

    func testMissingPlatformCredentialsAndBrokenManifestSayWhatIsWrong() throws {
        let app = try app()
        let none = try run(app.event("LAMBDA_SYNC", deployment: "n1", platform: .object([:])))
        XCTAssertEqual(none.result?.status, .failed)
        XCTAssertTrue(none.result?.message?.hasPrefix("this app has no lambda platform") == true, none.log)

        let noKeys = try LambdaFunctionRun.run(app.event("LAMBDA_SYNC", deployment: "n2"), environment: [:])
        XCTAssertEqual(noKeys.result?.message, "platform moto: credentials env: AWS_ACCESS_KEY_ID is not set in the server's environment")

        try "apiVersion: pipecd.dev/v1beta1\nkind: LambdaFunction\nspec:\n  name: x\n  role: r\n  runtime: p\n  handler: h\n  source: {path: src}\n  timeout: 901\n"
            .write(toFile: app.dir + "/function.yaml", atomically: true, encoding: .utf8)
        let broken = try run(app.event("LAMBDA_SYNC", deployment: "n3"))
        XCTAssertEqual(broken.result?.message, "function.yaml line 9: spec.timeout must be a whole number from 1 to 900, not 901")
        XCTAssertEqual(broken.result?.error?.type, "InvalidManifest")
        let rollback = try run(app.event("ROLLBACK", deployment: "n3", index: 1))
        XCTAssertEqual(rollback.result?.status, .succeeded)
        XCTAssertTrue(rollback.result?.message?.hasPrefix("nothing to roll back: function.yaml line 9") == true, rollback.log)
    }
}

/// moto checking every signature and the caller's IAM policy, as AWS does. (moto's server mode hashes a Lambda
/// GET's headers as if they were its body, and checks TagResource against the decoded ARN path, so it rejects those
/// from botocore too: acceptance is checked here with the other calls, and SigV4Tests.testAgreesWithBotocore
/// covers GETs and ARN paths; rejections are checked through the function.)
final class LambdaAuthenticationTests: MotoTestCase {
    override class var motoChecksSignatures: Bool { true }

    func testSignedCallsAreAcceptedByMotosVerifier() throws {
        let iam = AWSClient(endpoint: URL(string: moto.endpoint)!,
                            signer: SigV4(credentials: moto.credentials, region: moto.region, service: "iam"),
                            retry: RetryPolicy(maxAttempts: 1))
        let users = try iam.send("ListUsers", method: "POST", path: "/", contentType: "application/x-www-form-urlencoded; charset=utf-8",
                                 body: Array("Action=ListUsers&Version=2010-05-08".utf8))
        XCTAssertTrue(String(decoding: users.body, as: UTF8.self).contains("gantry-deployer"))

        let lambda = moto.lambda()
        let zip = try ZipArchive.zip(folder: try LambdaAppFixture(roleARN: moto.roleARN, platform: moto.platform()).dir + "/src")
        let created = try lambda.createFunction(.object([
            "FunctionName": .string("signed"), "Role": .string(moto.roleARN), "Runtime": .string("python3.12"),
            "Handler": .string("app.handler"), "Code": .object(["ZipFile": .string(Data(zip).base64EncodedString())])]))
        XCTAssertNotNil(created["FunctionArn"]?.string)
        XCTAssertEqual(try lambda.publishVersion("signed", description: "v [key]", codeSha256: nil), "1")
        let alias = try lambda.client.json("CreateAlias", method: "POST", path: "/2015-03-31/functions/signed/aliases",
                                           body: .object(["Name": .string("Service"), "FunctionVersion": .string("1")]))
        XCTAssertEqual(alias["FunctionVersion"], .string("1"))
    }

    func testWrongCredentialsFailTheStageWithAWSMessage() throws {
        let app = try LambdaAppFixture(roleARN: moto.roleARN, platform: moto.platform())
        let unknownKey = try LambdaFunctionRun.run(app.event("LAMBDA_SYNC", deployment: "a3"),
                                                   environment: ["AWS_ACCESS_KEY_ID": "AKIAUNKNOWN", "AWS_SECRET_ACCESS_KEY": "x"])
        XCTAssertEqual(unknownKey.result?.status, .failed)
        XCTAssertTrue(unknownKey.result?.message?.hasPrefix(
            "AWS GetFunction failed: InvalidClientTokenId: The security token included in the request is invalid. (HTTP 403") == true,
                      unknownKey.result?.message ?? "")
        XCTAssertEqual(unknownKey.result?.error?.type, "InvalidClientTokenId")
        XCTAssertEqual(unknownKey.result?.error?.retryable, false)
        let wrongSecret = try LambdaFunctionRun.run(app.event("LAMBDA_SYNC", deployment: "a4"),
                                                    environment: ["AWS_ACCESS_KEY_ID": moto.credentials.accessKeyID,
                                                                  "AWS_SECRET_ACCESS_KEY": "not-the-secret"])
        XCTAssertEqual(wrongSecret.result?.status, .failed)
        XCTAssertTrue(wrongSecret.result?.message?.hasPrefix(
            "AWS GetFunction failed: SignatureDoesNotMatch: The request signature we calculated does not match") == true,
                      wrongSecret.result?.message ?? "")
    }
}
