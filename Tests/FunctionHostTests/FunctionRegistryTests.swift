import Foundation
import XCTest
@testable import FunctionHost

final class FunctionRegistryTests: XCTestCase {
    func testLoadsEveryFolderAndReadsAllFields() throws {
        let box = try FunctionSandbox()
        try box.addFunction("wait", yaml: """
            name: wait
            stages: [WAIT]
            command: [gantry-fn-wait, --verbose]
            timeout: 5m
            limits: {memory: 256Mi, cpuSeconds: 60, openFiles: 256}
            env: [AWS_REGION, HOME_DIR]
            gracePeriod: 3s
            heartbeatTimeout: 1m30s
            platform: kubernetes
            """)
        try box.addFunction("minimal", yaml: "stages: [A, B]\ncommand: [./run.sh]\n", script: "exit 0")
        try FileManager.default.createDirectory(atPath: box.functionsDir + "/not-a-function", withIntermediateDirectories: true)

        let registry = FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: [])
        XCTAssertEqual(registry.problems, [])
        XCTAssertEqual(registry.functions.map(\.name), ["minimal", "wait"])
        let wait = try XCTUnwrap(registry.functions.first { $0.name == "wait" })
        XCTAssertEqual(wait.version.count, 64, "the registry computes the folder's version")
        XCTAssertEqual(wait, FunctionSpec(
            name: "wait", stages: ["WAIT"], command: ["gantry-fn-wait", "--verbose"], folder: box.functionsDir + "/wait",
            timeout: 300, limits: FunctionLimits(memoryBytes: 256 << 20, cpuSeconds: 60, openFiles: 256),
            env: ["AWS_REGION", "HOME_DIR"], gracePeriod: 3, heartbeatTimeout: 90, platform: "kubernetes",
            version: wait.version))
        let minimal = try XCTUnwrap(registry.functions.first { $0.name == "minimal" })
        XCTAssertEqual(minimal.stages, ["A", "B"])
        XCTAssertEqual(minimal.timeout, 300, "default timeout")
        XCTAssertEqual(minimal.gracePeriod, 10, "default grace period")
        XCTAssertEqual(minimal.limits, FunctionLimits())
        XCTAssertNil(minimal.heartbeatTimeout)
    }

    func testBrokenFilesAreReportedWithTheirLineAndTheOthersStillLoad() throws {
        let box = try FunctionSandbox()
        try box.addFunction("good", yaml: "name: good\nstages: [GOOD]\ncommand: [x]\n")
        try box.addFunction("bad-syntax", yaml: "name: bad\nstages: [BAD\ncommand: [x]\n")
        try box.addFunction("bad-size", yaml: "name: bad-size\nstages: [S]\ncommand: [x]\nlimits:\n  memory: 256MB\n")
        try box.addFunction("bad-duration", yaml: "name: bad-duration\nstages: [D]\ncommand: [x]\ntimeout: 5 minutes\n")
        try box.addFunction("no-command", yaml: "name: no-command\nstages: [N]\n")

        let registry = FunctionRegistry(paths: [box.functionsDir, box.root + "/missing"], executableSearchPaths: [])
        XCTAssertEqual(registry.functions.map(\.name), ["good"])
        func problem(_ folder: String) -> String? { registry.problems.first { $0.contains("/\(folder)/function.yaml") } }
        let syntax = try XCTUnwrap(problem("bad-syntax"))
        XCTAssertTrue(syntax.contains("function.yaml:3: invalid YAML"), syntax)
        let size = try XCTUnwrap(problem("bad-size"))
        XCTAssertTrue(size.contains("function.yaml:5: limits.memory:") && size.contains("256MB"), size)
        let duration = try XCTUnwrap(problem("bad-duration"))
        XCTAssertTrue(duration.contains("function.yaml:4:") && duration.contains("5 minutes"), duration)
        let command = try XCTUnwrap(problem("no-command"))
        XCTAssertTrue(command.contains("command is missing"), command)
        XCTAssertTrue(registry.problems.contains { $0.contains("/missing") && $0.contains("does not exist") })
    }

    func testStageLookupBreaksTiesByPlatform() throws {
        let box = try FunctionSandbox()
        try box.addFunction("k8s-sync", yaml: "stages: [SYNC, K8S_ONLY]\ncommand: [x]\nplatform: kubernetes\n")
        try box.addFunction("lambda-sync", yaml: "stages: [SYNC]\ncommand: [x]\nplatform: lambda\n")
        try box.addFunction("any-sync", yaml: "stages: [SYNC]\ncommand: [x]\n")
        let registry = FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: [])
        XCTAssertEqual(registry.problems, [])

        XCTAssertEqual(registry.function(forStage: "SYNC", platformKind: "kubernetes")?.name, "k8s-sync")
        XCTAssertEqual(registry.function(forStage: "SYNC", platformKind: "lambda")?.name, "lambda-sync")
        XCTAssertEqual(registry.function(forStage: "SYNC", platformKind: "cloudrun")?.name, "any-sync")
        XCTAssertEqual(registry.function(forStage: "SYNC", platformKind: nil)?.name, "any-sync")
        XCTAssertNil(registry.function(forStage: "K8S_ONLY", platformKind: "lambda"),
                     "a function bound to one platform never serves another's apps")
        XCTAssertEqual(registry.function(forStage: "K8S_ONLY", platformKind: "kubernetes")?.name, "k8s-sync")
        XCTAssertNil(registry.function(forStage: "NOPE", platformKind: "kubernetes"))
    }

    func testResolveExecutableLooksInFolderThenSearchPathsThenPATH() throws {
        let box = try FunctionSandbox()
        try box.addFunction("local", yaml: "stages: [L]\ncommand: [./run.sh]\n", script: "exit 0")
        try box.addFunction("bare-local", yaml: "stages: [B]\ncommand: [run.sh]\n", script: "exit 0")
        try box.addFunction("built", yaml: "stages: [P]\ncommand: [my-tool]\n")
        try box.addFunction("system", yaml: "stages: [S]\ncommand: [bash, -c, 'exit 0']\n")
        try box.addFunction("missing", yaml: "stages: [M]\ncommand: [no-such-tool-xyz]\n")
        let bin = box.root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: bin + "/my-tool", atomically: true, encoding: .utf8)
        chmod(bin + "/my-tool", 0o755)

        let registry = FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: [bin])
        func resolve(_ name: String) throws -> Result<String, HostError> {
            registry.resolveExecutable(try XCTUnwrap(registry.functions.first { $0.name == name }))
        }
        XCTAssertEqual(try resolve("local"), .success(box.functionsDir + "/local/run.sh"))
        XCTAssertEqual(try resolve("bare-local"), .success(box.functionsDir + "/bare-local/run.sh"))
        XCTAssertEqual(try resolve("built"), .success(bin + "/my-tool"))
        guard case .success(let bash) = try resolve("system") else { return XCTFail("bash not found on PATH") }
        XCTAssertTrue(bash.hasSuffix("/bash"), bash)
        guard case .failure(let error) = try resolve("missing") else { return XCTFail("resolved a missing tool") }
        XCTAssertEqual(error.type, "MissingTool")
        XCTAssertTrue(error.message.contains("no-such-tool-xyz"), error.message)
    }

    func testSizesAndTheirMessages() throws {
        XCTAssertEqual(try ByteSize.bytes("64Mi"), 64 << 20)
        XCTAssertEqual(try ByteSize.bytes("1Gi"), 1 << 30)
        XCTAssertEqual(try ByteSize.bytes("500M"), 500_000_000)
        XCTAssertEqual(try ByteSize.bytes("1048576"), 1 << 20)
        XCTAssertThrowsError(try ByteSize.bytes("12 parsecs"))
        XCTAssertThrowsError(try ByteSize.bytes("Mi"))
        XCTAssertEqual(ByteSize.format(256 << 20), "256Mi")
        XCTAssertEqual(ByteSize.format(3 << 30), "3Gi")
        XCTAssertEqual(ByteSize.format(1000), "1000 bytes")
    }
}
