import Foundation
import Logging
import Planner
import Store
import XCTest

/// A real Git setup in a temporary directory: a bare repository the planner fetches from (the "Git host")
/// and a work clone the test commits and pushes from.
final class GitFixture {
    let root: String
    let remote: String
    let work: String
    let dataDir: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("planner-\(UUID().uuidString)").path
        remote = root + "/remote.git"
        work = root + "/work"
        dataDir = root + "/data"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try GitFixture.git(["init", "--quiet", "--bare", "--initial-branch=main", remote], in: root)
        try git(["init", "--quiet", "--initial-branch=main"])
        try git(["remote", "add", "origin", remote])
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ path: String, _ content: String, executable: Bool = false) throws {
        let url = URL(fileURLWithPath: work + "/" + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try content.write(to: url, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
    }

    func remove(_ path: String) throws { try FileManager.default.removeItem(atPath: work + "/" + path) }

    /// Commits everything in the work tree, pushes it, and returns the new commit id.
    @discardableResult
    func commitAndPush(_ message: String) throws -> String {
        try git(["add", "-A"])
        try git(["commit", "--quiet", "--allow-empty", "-m", message])
        try git(["push", "--quiet", "origin", "HEAD:refs/heads/main"])
        return try git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @discardableResult
    func git(_ arguments: [String]) throws -> String { try GitFixture.git(arguments, in: work) }

    struct CommandFailed: Error, CustomStringConvertible {
        let description: String
    }

    @discardableResult
    static func git(_ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Identity and signing set here so the tests do not depend on the machine's git config.
        process.arguments = ["git", "-c", "user.name=Test Author", "-c", "user.email=author@example.com",
                             "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(description: "git \(arguments.joined(separator: " ")) failed: "
                                + String(decoding: stderr, as: UTF8.self))
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    // MARK: planner wiring

    func planner(store: InMemoryStore, platforms: [PlatformConfig] = [], repositoryID: String = "demo",
                 extraRepositories: [RepositoryConfig] = [], functions: PlatformFunctions? = nil) throws -> Planner {
        var logger = Logger(label: "planner-test")
        logger.logLevel = .warning
        return Planner(store: store,
                       repositories: [RepositoryConfig(id: repositoryID, remote: remote, branch: "main")] + extraRepositories,
                       platforms: platforms, functions: try functions ?? BuiltinFunctions.platformFunctions(), dataDir: dataDir,
                       logger: logger)
    }

    func readSource(_ dir: String, _ file: String) -> String? {
        try? String(contentsOfFile: dir + "/" + file, encoding: .utf8)
    }
}

/// A webhook trigger for a pushed commit, as ingress records it.
func pushTrigger(_ commit: String, repository: String = "demo", message: String = "") -> NewTrigger {
    NewTrigger(repository: repository, ref: "refs/heads/main", commit: commit, kind: .webhook,
               commitMessage: message, author: "someone")
}

func manualTrigger(_ application: String, strategy: SyncStrategy, repository: String = "demo") -> NewTrigger {
    NewTrigger(repository: repository, ref: "refs/heads/main", commit: nil, kind: .manual, application: application,
               strategy: strategy)
}

extension DeploymentDetail {
    var forwardStageNames: [String] { stages.filter { !$0.rollback }.map(\.name) }
    var rollbackStageNames: [String] { stages.filter(\.rollback).map(\.name) }
}

/// XCTUnwrap for values read from an actor (XCTUnwrap's autoclosure cannot await).
func unwrapped<T>(_ value: T?, file: StaticString = #filePath, line: UInt = #line) throws -> T {
    try XCTUnwrap(value, file: file, line: line)
}
