import Foundation
import XCTest
@testable import FunctionHost

/// function.yaml's part-2 fields, the folder version and declared tools.
final class FunctionSpecPart2Tests: XCTestCase {
    func testPartTwoFieldsAreReadAndDefaulted() throws {
        let box = try FunctionSandbox()
        try box.addFunction("full", yaml: """
            name: full
            stages: [FULL]
            command: [x]
            maxRecoveries: 2
            checkpointSchemas: [1, 2]
            concurrency: {key: function, limit: 2}
            requires: [kubectl, jq]
            secrets: [slack-token, db_password.v2]
            """)
        try box.addFunction("plain", yaml: "stages: [PLAIN]\ncommand: [x]\n")
        let registry = FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: [])
        XCTAssertEqual(registry.problems, [])
        let full = try XCTUnwrap(registry.functions.first { $0.name == "full" })
        XCTAssertEqual(full.maxRecoveries, 2)
        XCTAssertEqual(full.checkpointSchemas, [1, 2])
        XCTAssertEqual(full.concurrency, FunctionConcurrency(key: "function", limit: 2))
        XCTAssertEqual(full.requires, ["kubectl", "jq"])
        XCTAssertEqual(full.secrets, ["slack-token", "db_password.v2"])
        let plain = try XCTUnwrap(registry.functions.first { $0.name == "plain" })
        XCTAssertEqual(plain.maxRecoveries, 5)
        XCTAssertNil(plain.checkpointSchemas, "nil: any schema")
        XCTAssertNil(plain.concurrency)
        XCTAssertEqual(plain.requires, [])
        XCTAssertEqual(plain.secrets, [])
    }

    func testBadPartTwoFieldsAreProblemsWithTheirLine() throws {
        let box = try FunctionSandbox()
        let cases: [(folder: String, yaml: String, expected: String)] = [
            ("bad-key", "stages: [A]\ncommand: [x]\nconcurrency:\n  key: tenant\n  limit: 2\n",
             "function.yaml:4: concurrency.key: must be one of application, platform, function, global, got \"tenant\""),
            ("zero-limit", "stages: [A]\ncommand: [x]\nconcurrency: {key: global, limit: 0}\n",
             "function.yaml:3: concurrency.limit: must be a whole number of at least 1, got \"0\""),
            ("no-limit", "stages: [A]\ncommand: [x]\nconcurrency: {key: global}\n",
             "function.yaml:3: concurrency.limit is missing"),
            ("not-a-map", "stages: [A]\ncommand: [x]\nconcurrency: 4\n",
             "function.yaml:3: concurrency must be a mapping"),
            ("recoveries", "stages: [A]\ncommand: [x]\nmaxRecoveries: -1\n",
             "function.yaml:3: maxRecoveries: must be a whole number of at least 0, got \"-1\""),
            ("schemas", "stages: [A]\ncommand: [x]\ncheckpointSchemas:\n  - 1\n  - two\n",
             "function.yaml:5: checkpointSchemas: every item must be a whole number of at least 1, got \"two\""),
            ("secret-name", "stages: [A]\ncommand: [x]\nsecrets: [ok, ../../etc/passwd]\n",
             "function.yaml:3: secrets: \"../../etc/passwd\" is not a valid secret name"),
            ("requires", "stages: [A]\ncommand: [x]\nrequires: {kubectl: yes}\n",
             "function.yaml:3: requires: must be a list of text values"),
        ]
        for c in cases { try box.addFunction(c.folder, yaml: c.yaml) }
        let registry = FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: [])
        XCTAssertEqual(registry.functions.map(\.name), [], "every one of them is refused")
        for c in cases {
            let problem = registry.problems.first { $0.contains("/\(c.folder)/function.yaml") }
            XCTAssertTrue(problem?.contains(c.expected) == true, "\(c.folder): \(problem ?? "no problem reported")")
        }
    }

    func testVersionIsTheSHA256OfPathsAndContentsAndChangesOnlyWithThem() throws {
        let box = try FunctionSandbox()
        let folder = try box.addFunction("versioned", yaml: "stages: [V]\ncommand: [./run.sh]\n", script: "echo one")
        func version() throws -> String {
            let registry = FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: [])
            return try XCTUnwrap(registry.functions.first?.version, "\(registry.problems)")
        }
        let first = try version()
        // An independent computation with coreutils: sorted relative paths, each "path NUL contents".
        var stream = Data()
        for path in ["function.yaml", "run.sh"] {
            stream += Data(path.utf8) + [0]
            stream += try Data(contentsOf: URL(fileURLWithPath: folder + "/" + path))
        }
        XCTAssertEqual(first, try sha256sum(stream))
        XCTAssertEqual(try version(), first, "stable across loads")

        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, folder + "/run.sh", &times, 0), 0)
        XCTAssertEqual(try version(), first, "a new mtime is not a new version")

        try FileManager.default.createDirectory(atPath: folder + "/.git/objects", withIntermediateDirectories: true)
        try "ref".write(toFile: folder + "/.git/objects/HEAD", atomically: true, encoding: .utf8)
        XCTAssertEqual(try version(), first, ".git is skipped")

        try "#!/bin/bash\necho two\n".write(toFile: folder + "/run.sh", atomically: true, encoding: .utf8)
        let second = try version()
        XCTAssertNotEqual(second, first, "an edited file is a new version")

        try FileManager.default.createDirectory(atPath: folder + "/lib", withIntermediateDirectories: true)
        try "".write(toFile: folder + "/lib/empty.txt", atomically: true, encoding: .utf8)
        let third = try version()
        XCTAssertNotEqual(third, second, "even an empty new file counts")

        try FileManager.default.moveItem(atPath: folder + "/lib/empty.txt", toPath: folder + "/lib/renamed.txt")
        XCTAssertNotEqual(try version(), third, "a renamed file is a new version")
    }

    func testMissingToolsLooksOnThePathAndInTheFolder() throws {
        let box = try FunctionSandbox()
        let folder = try box.addFunction("needs", yaml: """
            stages: [N]
            command: [./run.sh]
            requires: [bash, no-such-tool-xyz, /bin/sh, /nonexistent/tool, ./run.sh, ./absent.sh, my-tool]
            """, script: "exit 0")
        let registry = FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: [])
        let spec = try XCTUnwrap(registry.functions.first)
        XCTAssertEqual(spec.folder, folder)
        XCTAssertEqual(registry.missingTools(spec, path: "/usr/bin:/bin"),
                       ["no-such-tool-xyz", "/nonexistent/tool", "./absent.sh", "my-tool"])

        let bin = box.root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: bin + "/my-tool", atomically: true, encoding: .utf8)
        XCTAssertEqual(registry.missingTools(spec, path: "/usr/bin:/bin:\(bin)").last, "my-tool",
                       "a file that is not executable does not count")
        chmod(bin + "/my-tool", 0o755)
        XCTAssertEqual(registry.missingTools(spec, path: "/usr/bin:/bin:\(bin)"),
                       ["no-such-tool-xyz", "/nonexistent/tool", "./absent.sh"])
        XCTAssertEqual(registry.missingTools(FunctionSpec(name: "none", stages: [], command: ["x"], folder: folder)), [])
    }
}

/// `sha256sum` of `data`, lower-case hex.
private func sha256sum(_ data: Data) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(data)
    try input.fileHandleForWriting.close()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return String(text.prefix(64))
}
