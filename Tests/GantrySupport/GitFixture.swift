import Foundation
import Ingress

/// A real bare repository with a work clone, and the demo's post-receive hook pointing at a test server.
package struct GitFixture {
    package let root: String
    package var bare: String { root + "/repo.git" }
    package var work: String { root + "/work" }
    package var secretFile: String { root + "/hook-secret" }
    package let secret = "test-hook-secret-\(UUID().uuidString.prefix(6))"

    package init(root: String) throws {
        self.root = root
        try secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        try sh(["git", "init", "-q", "--bare", "--initial-branch=main", bare])
        try sh(["git", "init", "-q", "--initial-branch=main", work])
        try sh(["git", "-C", work, "config", "user.name", "Test Author"])
        try sh(["git", "-C", work, "config", "user.email", "test@gantry.invalid"])
        try sh(["git", "-C", work, "remote", "add", "origin", bare])
    }

    /// Installs the post-receive hook that signs and sends each push to `url`.
    package func installHook(url: String) throws {
        let hook = bare + "/hooks/post-receive"
        try PostReceiveHook.script(url: url, secretFile: secretFile).write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
    }

    package func write(_ path: String, _ content: String) throws {
        let full = work + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try content.write(toFile: full, atomically: true, encoding: .utf8)
    }

    /// Commits everything on a branch of its own and pushes it where the host serves pull request `number`'s head
    /// (`refs/pull/N/head`); main in the work clone is left as it was. Returns the commit.
    @discardableResult
    package func pushPullRequest(_ number: Int, _ message: String, files: [String: String]) throws -> String {
        let branch = "pull-\(number)"
        let exists = (try? sh(["git", "-C", work, "rev-parse", "--verify", "--quiet", "refs/heads/" + branch])) != nil
        try sh(["git", "-C", work, "checkout", "-q"] + (exists ? [branch] : ["-b", branch]))
        defer { _ = try? sh(["git", "-C", work, "checkout", "-q", "main"]) }
        for (path, content) in files { try write(path, content) }
        try sh(["git", "-C", work, "add", "-A"])
        try sh(["git", "-C", work, "commit", "-q", "--allow-empty", "-m", message])
        try sh(["git", "-C", work, "push", "-q", "--force", "origin", "HEAD:refs/pull/\(number)/head"])
        return try sh(["git", "-C", work, "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Commits everything and pushes; returns the new commit and the hook's output.
    @discardableResult
    package func commitAndPush(_ message: String) throws -> (commit: String, hookOutput: String) {
        try sh(["git", "-C", work, "add", "-A"])
        try sh(["git", "-C", work, "commit", "-q", "--allow-empty", "-m", message])
        let commit = try sh(["git", "-C", work, "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", work, "push", "-q", "origin", "main"]
        let err = Pipe(); p.standardError = err; p.standardOutput = Pipe()
        try p.run()
        let output = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (commit, output)
    }
}
