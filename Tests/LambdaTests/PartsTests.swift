import Foundation
import FunctionKit
@testable import LambdaPlatform
import XCTest

/// Where credentials come from, and what a missing one says.
final class CredentialSourceTests: XCTestCase {
    func testEnvironment() throws {
        let env = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN"]
        XCTAssertEqual(try CredentialSource("env").resolve(environment: env, homeDirectory: "/nonexistent"),
                       AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN"))
        XCTAssertEqual(try CredentialSource(nil), .environment)
        XCTAssertThrowsError(try CredentialSource("env").resolve(environment: ["AWS_ACCESS_KEY_ID": "A"], homeDirectory: "/")) {
            XCTAssertTrue("\($0)".contains("AWS_SECRET_ACCESS_KEY is not set"), "\($0)")
        }
    }

    func testProfileFromSharedCredentialsFileAndFileReference() throws {
        let dir = NSTemporaryDirectory() + "creds-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/.aws", withIntermediateDirectories: true)
        let text = """
            # comment
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = defaultsecret

            [deploy]
            aws_access_key_id=DEPLOYKEY
            aws_secret_access_key=deploy/secret+x
            aws_session_token = tok
            """
        try text.write(toFile: dir + "/.aws/credentials", atomically: true, encoding: .utf8)
        // ~/.aws/credentials of the server's user ...
        XCTAssertEqual(try CredentialSource("profile:deploy").resolve(environment: [:], homeDirectory: dir),
                       AWSCredentials(accessKeyID: "DEPLOYKEY", secretAccessKey: "deploy/secret+x", sessionToken: "tok"))
        // ... or AWS_SHARED_CREDENTIALS_FILE.
        try text.write(toFile: dir + "/other", atomically: true, encoding: .utf8)
        XCTAssertEqual(try CredentialSource("profile:default").resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": dir + "/other"],
                                                                     homeDirectory: "/nonexistent").accessKeyID, "DEFAULTKEY")
        XCTAssertEqual(try CredentialSource("file:\(dir)/other").resolve(environment: [:], homeDirectory: "/").accessKeyID,
                       "DEFAULTKEY")
        XCTAssertEqual(try CredentialSource("file:\(dir)/other#deploy").resolve(environment: [:], homeDirectory: "/").accessKeyID,
                       "DEPLOYKEY")
        XCTAssertThrowsError(try CredentialSource("profile:nope").resolve(environment: [:], homeDirectory: dir)) {
            XCTAssertTrue("\($0)".contains("has no profile [nope] (it has default, deploy)"), "\($0)")
        }
        XCTAssertThrowsError(try CredentialSource("file:/nonexistent/creds").resolve(environment: [:], homeDirectory: "/")) {
            XCTAssertTrue("\($0)".contains("cannot read /nonexistent/creds"), "\($0)")
        }
        XCTAssertThrowsError(try CredentialSource("vault:x")) {
            XCTAssertTrue("\($0)".contains("not one of env, profile:NAME, file:PATH"), "\($0)")
        }
    }
}

/// The deployment package: a zip that standard tools read, with modes and links, and the same bytes every time.
final class ZipArchiveTests: XCTestCase {
    func testZipIsReadableKeepsModesAndLinksAndIsDeterministic() throws {
        let dir = NSTemporaryDirectory() + "zip-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/lib/deep", withIntermediateDirectories: true)
        try "def handler(e, c):\n    return 'hi'\n".write(toFile: dir + "/app.py", atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho boot\n".write(toFile: dir + "/bootstrap", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir + "/bootstrap")
        try Data((0..<3000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: dir + "/lib/deep/data.bin"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.py", withDestinationPath: "app.py")
        try "ünïcode".write(toFile: dir + "/lib/naïve.txt", atomically: true, encoding: .utf8)

        let zip = try ZipArchive.zip(folder: dir)
        let path = dir + ".zip"
        try Data(zip).write(to: URL(fileURLWithPath: path))
        let listing = try python("""
            import zipfile, sys
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            for i in z.infolist():
                print(i.filename, oct(i.external_attr >> 16), i.CRC, len(z.read(i.filename)))
            """, path)
        XCTAssertEqual(listing.split(separator: "\n").map { $0.split(separator: " ").prefix(2).joined(separator: " ") }, [
            "app.py 0o100644", "bootstrap 0o100755", "lib/deep/data.bin 0o100644", "lib/naïve.txt 0o100644",
            "link.py 0o120777"])
        XCTAssertTrue(listing.contains("lib/deep/data.bin 0o100644"), listing)
        XCTAssertTrue(listing.contains(" 3000\n"), listing)

        // Touching the files changes their times, not the archive.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -86400)], ofItemAtPath: dir + "/app.py")
        XCTAssertEqual(try ZipArchive.zip(folder: dir), zip)
        XCTAssertThrowsError(try ZipArchive.zip(folder: dir + "/missing")) { XCTAssertTrue("\($0)".contains("does not exist")) }
    }

    func testCRC32KnownValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }
}

/// PipeCD's LambdaFunction manifest, and what a wrong one says.
final class FunctionManifestTests: XCTestCase {
    func testPipeCDManifestReadsUnchanged() throws {
        let m = try FunctionManifest.parse("""
            apiVersion: pipecd.dev/v1beta1
            kind: LambdaFunction
            spec:
              name: SimpleFunction
              role: arn:aws:iam::76xxxxxxx:role/lambda-role
              runtime: python3.12
              handler: app.handler
              source:
                path: src
              memory: 512
              timeout: 30
              architectures:
                - name: arm64
              ephemeralStorage:
                size: 1024
              environments:
                FOO: bar
                VERSION: 1.10
                PORT: 8080
              tags:
                app: simple
              vpcConfig:
                subnetIds: [subnet-1]
                securityGroupIds: [sg-1]
            """, file: "function.yaml")
        XCTAssertEqual(m.name, "SimpleFunction")
        XCTAssertEqual(m.code, .folder("src"))
        XCTAssertEqual(m.memory, 512)
        XCTAssertEqual(m.timeout, 30)
        XCTAssertEqual(m.architectures, ["arm64"])
        XCTAssertEqual(m.ephemeralStorage, 1024)
        XCTAssertEqual(m.environment, ["FOO": "bar", "VERSION": "1.10", "PORT": "8080"])
        XCTAssertEqual(m.tags, ["app": "simple"])
        XCTAssertEqual(m.subnetIDs, ["subnet-1"])

        let image = try FunctionManifest.parse("""
            apiVersion: pipecd.dev/v1beta1
            kind: LambdaFunction
            spec: {name: img, role: r, image: 123.dkr.ecr.us-east-1.amazonaws.com/app:v1}
            """, file: "function.yaml")
        XCTAssertEqual(image.code, .image("123.dkr.ecr.us-east-1.amazonaws.com/app:v1"))
        let s3 = try FunctionManifest.parse("""
            apiVersion: pipecd.dev/v1beta1
            kind: LambdaFunction
            spec: {name: s3fn, role: r, runtime: go1.x, handler: main, s3Bucket: b, s3Key: k.zip, s3ObjectVersion: "3"}
            """, file: "function.yaml")
        XCTAssertEqual(s3.code, .s3(bucket: "b", key: "k.zip", version: "3"))
    }

    /// The example shipped in infra/examples/lambda reads as it is.
    func testShippedExampleReads() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../infra/examples/lambda")
            .standardizedFileURL.path
        let input = try AppInput.read(directory: dir, application: "hello-lambda")
        XCTAssertEqual(input, AppInput(functionManifestFile: "function.yaml", aliasName: "Service"))
        let manifest = try FunctionManifest.load(path: dir + "/" + input.functionManifestFile, displayName: "function.yaml")
        XCTAssertEqual(manifest.code, .folder("src"))
        XCTAssertFalse(try ZipArchive.zip(folder: dir + "/src").isEmpty)
    }

    func testProblemsNameFileLineAndField() {
        func problem(_ spec: String) -> String {
            do {
                _ = try FunctionManifest.parse("apiVersion: pipecd.dev/v1beta1\nkind: LambdaFunction\nspec:\n" + spec,
                                               file: "function.yaml")
                return "no problem"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(problem("  name: f\n  runtime: python3.12\n  handler: a.h\n  source: {path: src}\n"),
                       "function.yaml line 3: spec.role is missing")
        XCTAssertEqual(problem("  name: f\n  role: r\n  runtime: p\n  handler: h\n  source: {path: src}\n  memory: 64\n"),
                       "function.yaml line 9: spec.memory must be a whole number from 128 to 10240, not 64")
        XCTAssertTrue(problem("  name: f\n  role: r\n  runtime: p\n  handler: h\n  source: {git: 'git@x', ref: main}\n")
            .contains("spec.source.git (code in another repository) is not supported"))
        XCTAssertTrue(problem("  name: f\n  role: r\n  image: i\n  s3Bucket: b\n  s3Key: k\n").contains("more than one code location"))
        XCTAssertTrue(problem("  name: f\n  role: r\n  runtime: p\n  handler: h\n").contains("needs the function's code"))
        XCTAssertTrue(problem("  name: f\n  role: r\n  image: i\n  tags: {\"gantry:deployment\": x}\n").contains("reserved"))
        XCTAssertTrue(problem("  name: f\n  role: r\n  runtime: p\n  handler: h\n  source: {path: ../up}\n")
            .contains("must be a folder inside the app's directory"))
        XCTAssertTrue(problem("  name: f\n  role: r\n  source: {path: src}\n").contains("spec.handler is missing"))
        XCTAssertEqual(problem("  name: [f\n"), "function.yaml line 5: invalid YAML: did not find expected ',' or ']'")
    }
}

/// The app config's input: which manifest, which alias.
final class AppInputTests: XCTestCase {
    func testReadsInputAndPicksTheAppByName() throws {
        let dir = NSTemporaryDirectory() + "app-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "apiVersion: pipecd.dev/v1beta1\nkind: LambdaApp\nspec:\n  name: one\n"
            .write(toFile: dir + "/one.pipecd.yaml", atomically: true, encoding: .utf8)
        try "apiVersion: pipecd.dev/v1beta1\nkind: LambdaApp\nspec:\n  name: two\n  input:\n    functionManifestFile: fn/two.yaml\n    aliasName: Live\n"
            .write(toFile: dir + "/two.pipecd.yaml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try AppInput.read(directory: dir, application: "two"),
                       AppInput(functionManifestFile: "fn/two.yaml", aliasName: "Live"))
        XCTAssertEqual(try AppInput.read(directory: dir, application: "one"), AppInput())
        XCTAssertThrowsError(try AppInput.read(directory: dir + "/none", application: "x")) {
            XCTAssertTrue("\($0)".contains("no LambdaApp config"), "\($0)")
        }
    }
}

/// AWS's errors as the services write them.
final class AWSErrorTests: XCTestCase {
    func testJSONXMLAndHeaderForms() {
        let json = AWSError.parse(operation: "CreateFunction", status: 400,
                                  headers: ["X-Amzn-ErrorType": "InvalidParameterValueException:http://internal.amazon.com/"],
                                  body: Array(#"{"Type":"User","message":"The role defined for the function cannot be assumed by Lambda."}"#.utf8))
        XCTAssertEqual(json.code, "InvalidParameterValueException")
        XCTAssertEqual(json.message, "The role defined for the function cannot be assumed by Lambda.")
        XCTAssertFalse(json.isRetryable)
        let xml = AWSError.parse(operation: "GetFunction", status: 403, headers: [:], body: Array(
            "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></Errors></ErrorResponse>".utf8))
        XCTAssertEqual(xml.description, "AWS GetFunction failed: InvalidClientTokenId: The security token included in the request is invalid. (HTTP 403)")
        let typed = AWSError.parse(operation: "X", status: 400, headers: [:], body: Array(#"{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}"#.utf8))
        XCTAssertEqual(typed.code, "ThrottlingException")
        XCTAssertTrue(typed.isRetryable)
        XCTAssertTrue(AWSError(operation: "X", status: 503, code: "ServiceException", message: "").isRetryable)
        XCTAssertTrue(AWSError(operation: "X", status: 409, code: "ResourceConflictException",
                               message: "The operation cannot be performed at this time. An update is in progress").isRetryable)
        XCTAssertFalse(AWSError(operation: "X", status: 409, code: "ResourceConflictException", message: "Alias already exists").isRetryable)
    }
}

/// Runs a Python snippet (python3 is there for moto) with arguments and standard input; returns stdout.
func python(_ script: String, _ arguments: String..., stdin: String = "") throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script] + arguments
    let input = Pipe(), out = Pipe(), err = Pipe()
    p.standardInput = input; p.standardOutput = out; p.standardError = err
    try p.run()
    input.fileHandleForWriting.write(Data(stdin.utf8))
    try input.fileHandleForWriting.close()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw NSError(domain: "python", code: 1, userInfo: [NSLocalizedDescriptionKey: String(decoding: errors, as: UTF8.self)])
    }
    return String(decoding: data, as: UTF8.self)
}
