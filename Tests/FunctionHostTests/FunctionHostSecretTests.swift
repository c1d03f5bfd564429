import Foundation
import FunctionKit
import XCTest
@testable import FunctionHost

/// Secrets reach a function only as 0400 files under $GANTRY_SECRETS, never in its environment, and their
/// values (and base64) are masked in its log and result message.
final class FunctionHostSecretTests: XCTestCase {
    func testSecretsAreReadOnlyFilesAndNeverInTheEnvironment() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("reads-secret", script: """
            stat -c 'mode %a %n' "$GANTRY_SECRETS" "$GANTRY_SECRETS"/* >&2
            echo "token=$(cat "$GANTRY_SECRETS/api-token")" >&2
            env | sed 's/^/env: /' >&2
            cat /proc/$$/environ | tr '\\0' '\\n' | sed 's/^/environ: /' >&2
            """, extraYAML: "env: [LEAKY, HARMLESS]\nsecrets: [api-token, db-password]")
        let host = try box.host(environment: ["PATH": "/usr/bin:/bin", "LEAKY": "prefix-s3cr3t-token-value",
                                              "HARMLESS": "just config"])
        var request = box.request(spec)
        request.secrets = ["api-token": "s3cr3t-token-value", "db-password": "pa55word"]
        let recorder = Recorder()
        let outcome = host.run(request, recorder: recorder)
        XCTAssertEqual(outcome.result.status, .succeeded, "\(outcome.result.message ?? "") \(recorder.logs)")

        let folder = request.directory + "/.secrets"
        XCTAssertTrue(recorder.logs.contains("mode 500 \(folder)"), "\(recorder.logs)")
        XCTAssertTrue(recorder.logs.contains("mode 400 \(folder)/api-token"), "\(recorder.logs)")
        XCTAssertTrue(recorder.logs.contains("mode 400 \(folder)/db-password"), "\(recorder.logs)")
        XCTAssertTrue(recorder.logs.contains("token=s3cr3t-token-value"), "the file holds exactly the value")
        let environment = recorder.logs.filter { $0.hasPrefix("env: ") || $0.hasPrefix("environ: ") }
        XCTAssertTrue(environment.contains("env: GANTRY_SECRETS=\(folder)"), "\(environment)")
        XCTAssertTrue(environment.contains("env: HARMLESS=just config"), "\(environment)")
        XCTAssertFalse(environment.contains { $0.contains("s3cr3t") || $0.contains("pa55word") },
                       "a secret value reached the environment: \(environment)")
        XCTAssertTrue(recorder.logs.contains("warning: not passed to the function because their values hold a secret: LEAKY"),
                      "\(recorder.logs)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "secrets are removed when the attempt ends")
        XCTAssertTrue(FileManager.default.fileExists(atPath: request.directory + "/tmp"), "the rest of the directory stays")
    }

    func testSecretsAreRemovedEvenWhenTheFunctionIsKilled() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("hangs", script: "sleep 30", extraYAML: "gracePeriod: 1s")
        var request = box.request(spec, seconds: 1)
        request.secrets = ["key": "value"]
        let outcome = try box.host().run(request, recorder: Recorder())
        XCTAssertEqual(outcome.errorType, "DeadlineExceeded")
        XCTAssertFalse(FileManager.default.fileExists(atPath: request.directory + "/.secrets"))
    }

    func testAnInvalidSecretNameIsRefusedBeforeSpawning() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("any", script: "exit 0")
        var request = box.request(spec)
        request.secrets = ["../escape": "x"]
        let recorder = Recorder()
        let outcome = try box.host().run(request, recorder: recorder)
        XCTAssertEqual(outcome.result.status, .failed)
        XCTAssertTrue(outcome.result.message?.contains("secret name \"../escape\" is not a plain file name") == true,
                      outcome.result.message ?? "")
        XCTAssertNil(recorder.started)
        XCTAssertFalse(FileManager.default.fileExists(atPath: request.directory + "/escape"))
    }

    func testALeftoverReadOnlySecretsFolderCanBeRemoved() throws {
        let box = try FunctionSandbox()
        let dir = box.root + "/leftover"
        XCTAssertNil(InvocationDirectory.prepare(dir))
        XCTAssertNil(InvocationDirectory.writeSecrets(["a": "1"], into: dir))
        FunctionHost.removeInvocationDirectory(dir)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
    }

    func testValuesAndTheirBase64AreMaskedInLogLinesAndTheResultMessage() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("leaks", script: """
            v=$(cat "$GANTRY_SECRETS/token")
            echo "plain: $v" >&2
            echo "b64: $(printf %s "$v" | base64)" >&2
            echo "twice: $v and $v" >&2
            echo "unrelated line" >&2
            echo "{\\"result\\": {\\"status\\": \\"failed\\", \\"message\\": \\"rejected $v\\", \\"error\\": {\\"type\\": \\"Auth\\", \\"message\\": \\"token $v\\"}}}"
            exit 1
            """, extraYAML: "secrets: [token]")
        var request = box.request(spec)
        request.secrets = ["token": "hunter2-very-secret"]
        request.redactions = ["hunter2-very-secret", ""]
        let recorder = Recorder()
        let outcome = try box.host().run(request, recorder: recorder)
        XCTAssertEqual(recorder.logs, ["plain: ***", "b64: ***", "twice: *** and ***", "unrelated line"])
        XCTAssertEqual(outcome.result.message, "rejected ***")
        XCTAssertEqual(outcome.result.error?.message, "token ***")
        XCTAssertEqual(outcome.result.error?.type, "Auth")
    }

    func testRedactorMasksLongestFirstAndIgnoresEmptyValues() {
        let redactor = Redactor(values: ["abc", "abcdef", ""])
        XCTAssertEqual(redactor.redact("x abcdef y abc z"), "x *** y *** z")
        XCTAssertEqual(redactor.redact("YWJjZGVm is abcdef in base64"), "*** is *** in base64")
        XCTAssertEqual(redactor.redact("nothing here"), "nothing here")
        XCTAssertTrue(Redactor(values: [""]).isEmpty)
    }
}

final class MultiLineRedactionTests: XCTestCase {
    func testEachLineOfAMultiLineSecretIsMaskedInLogLines() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("key-leak", script: """
            cat "$GANTRY_SECRETS/key" >&2
            echo >&2
            echo "---" >&2
            base64 "$GANTRY_SECRETS/key" >&2
            echo "{\\"result\\": {\\"status\\": \\"succeeded\\"}}"
            """, extraYAML: "secrets: [key]")
        let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
            + "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n-----END PRIVATE KEY-----"
        var request = box.request(spec)
        request.secrets = ["key": key]
        request.redactions = [key]
        let recorder = Recorder()
        _ = try box.host().run(request, recorder: recorder)
        XCTAssertEqual(recorder.logs.prefix(4).map { $0 }, ["***", "***", "***", "***"], "\(recorder.logs)")
        let body = recorder.logs.joined(separator: "\n")
        for line in key.split(separator: "\n") { XCTAssertFalse(body.contains(line), "\(line) leaked: \(body)") }
        let base64Lines = recorder.logs.drop { $0 != "---" }.dropFirst()
        XCTAssertFalse(base64Lines.isEmpty)
        XCTAssertTrue(base64Lines.allSatisfy { $0 == "***" }, "\(Array(base64Lines))")
    }

    func testOutputValuesAreMaskedLikeTheLog() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("output-leak", script: """
            v=$(cat "$GANTRY_SECRETS/token")
            echo "{\\"output\\": {\\"url\\": \\"https://ci:$v@ci.example\\", \\"plain\\": \\"kept\\"}}"
            echo "{\\"result\\": {\\"status\\": \\"succeeded\\"}}"
            """, extraYAML: "secrets: [token]")
        var request = box.request(spec)
        request.secrets = ["token": "hunter2-very-secret"]
        request.redactions = ["hunter2-very-secret"]
        let recorder = Recorder()
        _ = try box.host().run(request, recorder: recorder)
        let outputs = recorder.messages.compactMap { message -> [String: String]? in
            if case .output(let values) = message { return values }
            return nil
        }
        XCTAssertEqual(outputs, [["url": "https://ci:***@ci.example", "plain": "kept"]])
    }

    func testShortPiecesOfAMultiLineSecretAreLeftAlone() {
        let redactor = Redactor(values: ["a: b\nlong-enough-line"])
        XCTAssertEqual(redactor.redact("a: b"), "a: b")
        XCTAssertEqual(redactor.redact("x long-enough-line y"), "x *** y")
    }
}
