import Foundation
import Store

/// A bare mirror of one configured repository's branch under `<dataDir>/mirrors/<repo-id>.git`, and the
/// read-only questions the planner asks it. Every answer comes from git, never from a webhook payload.
struct Mirror: Sendable {
    let repository: RepositoryConfig
    let path: String
    let git: GitRunner

    static let fetchTimeout: Double = 300

    init(repository: RepositoryConfig, dataDir: String, git: GitRunner) {
        self.repository = repository
        self.path = DataLayout.mirror(dataDir, repository: Mirror.fileName(for: repository.id))
        self.git = git
    }

    /// Repository ids come from the server config; keep them from escaping the mirrors folder.
    static func fileName(for id: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let cleaned = String(id.map { allowed.contains($0) ? $0 : "_" })
        return cleaned.hasPrefix(".") ? "_" + cleaned : cleaned
    }

    private var gitDir: String { "--git-dir=\(path)" }
    private var branchRef: String { "refs/heads/\(repository.branch)" }

    /// Creates the mirror once, then fetches the configured branch. `init` + `fetch` instead of `clone`:
    /// both are safe to repeat, so a crash halfway never leaves a mirror that has to be deleted by hand.
    func sync() async throws {
        if !FileManager.default.fileExists(atPath: "\(path)/HEAD") {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try await git.check(["init", "--bare", "--quiet", path])
        }
        removeStaleLocks()
        try await git.check([gitDir, "fetch", "--prune", "--no-tags", "--quiet", repository.remote,
                             "+\(branchRef):\(branchRef)"], timeout: Mirror.fetchTimeout)
    }

    /// A git killed at its timeout can leave lock files behind, and every later fetch would then fail.
    /// The planner is the only user of its mirrors and runs one pass at a time, so a lock here is stale.
    private func removeStaleLocks() {
        for lock in ["\(branchRef).lock", "packed-refs.lock", "shallow.lock", "config.lock", "HEAD.lock", "FETCH_HEAD.lock"] {
            try? FileManager.default.removeItem(atPath: "\(path)/\(lock)")
        }
    }

    /// The branch head after the last fetch.
    func head() async throws -> String {
        try await git.check([gitDir, "rev-parse", "--verify", "--end-of-options", "\(branchRef)^{commit}"])
            .text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The full id of `commit` if the mirror has it as a commit, else nil.
    func resolveCommit(_ commit: String) async throws -> String? {
        guard Mirror.looksLikeCommitID(commit) else { return nil }
        let r = try await git.run([gitDir, "rev-parse", "--verify", "--quiet", "--end-of-options", "\(commit)^{commit}"])
        guard r.status == 0 else { return nil }
        return r.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The commit of `ref` for a plan preview: a commit id the mirror has, or a ref of the remote (a branch,
    /// `refs/pull/7/head`, a tag) fetched into `refs/gantry/preview/<slot>`. Only plain ref characters are accepted:
    /// the ref comes from an API caller and lands in a git refspec.
    func previewCommit(_ ref: String, slot: String) async throws -> String {
        if let known = try await resolveCommit(ref) { return known }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-")
        guard !ref.isEmpty, !ref.hasPrefix("-"), !ref.contains(".."), ref.allSatisfy(allowed.contains) else {
            throw PreviewRefused(description: "\(ref) is not a ref name or commit id")
        }
        let local = "refs/gantry/preview/\(slot)"
        removeStaleLocks()
        let fetched = try await git.run([gitDir, "fetch", "--no-tags", "--quiet", repository.remote, "+\(ref):\(local)"],
                                        timeout: Mirror.fetchTimeout)
        guard fetched.status == 0 else {
            let said = fetched.stderr.split(whereSeparator: \.isNewline).map(String.init).joined(separator: " ")
            throw PreviewRefused(description: "cannot fetch \(ref) from repository \(repository.id): \(said)")
        }
        return try await git.check([gitDir, "rev-parse", "--verify", "--end-of-options", "\(local)^{commit}"])
            .text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Where the two histories met (what a pull request is compared from); nil when they share none.
    func mergeBase(_ a: String, _ b: String) async throws -> String? {
        let r = try await git.run([gitDir, "merge-base", a, b])
        return r.status == 0 ? r.text.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    static func looksLikeCommitID(_ text: String) -> Bool {
        (4...64).contains(text.count) && text.allSatisfy { $0.isHexDigit }
    }

    /// Whether `ancestor` is reachable from `descendant` (equal counts). Nil when git cannot tell, e.g. a
    /// commit the mirror does not have (history rewritten and pruned).
    func isAncestor(_ ancestor: String, of descendant: String) async throws -> Bool? {
        guard Mirror.looksLikeCommitID(ancestor), Mirror.looksLikeCommitID(descendant) else { return nil }
        let r = try await git.run([gitDir, "merge-base", "--is-ancestor", ancestor, descendant])
        switch r.status {
        case 0: return true
        case 1: return false
        default: return nil
        }
    }

    struct CommitInfo: Sendable { var message: String; var author: String; var time: Date? = nil }

    func commitInfo(_ commit: String) async throws -> CommitInfo {
        // %ct (committer time) first: lead time for changes runs from it to the successful deployment.
        let out = try await git.check([gitDir, "log", "-1", "--format=%ct%x00%an%x00%B", commit, "--"]).text
        let parts = out.split(separator: "\u{0}", maxSplits: 2, omittingEmptySubsequences: false)
        let time = parts.first.flatMap { Double($0) }.map { Date(timeIntervalSince1970: $0) }
        let author = parts.count > 1 ? String(parts[1]) : ""
        let message = parts.count > 2 ? String(parts[2]) : ""
        return CommitInfo(message: message.trimmingCharacters(in: .whitespacesAndNewlines), author: author, time: time)
    }

    /// A file of a commit's tree: its path, blob id and size in bytes.
    struct File: Sendable, Equatable {
        var path: String
        var object: String
        var size: Int
    }

    /// The files of the commit's tree that `wanted` (given the path) keeps, with blob id and size, from one
    /// `git ls-tree`. Parsed straight from the bytes: a monorepo's tree has tens of thousands of entries per push.
    func files(at commit: String, where wanted: (String) -> Bool = { _ in true }) async throws -> [File] {
        let out = try await git.check([gitDir, "ls-tree", "-r", "-z", "-l", "--full-tree", commit]).stdout
        return out.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var files: [File] = []
            var at = 0
            // Records: "<mode> <type> <object> <size padded>\t<path>\0"
            while at < bytes.count {
                var tab = at
                while tab < bytes.count, bytes[tab] != UInt8(ascii: "\t") { tab += 1 }
                var end = tab
                while end < bytes.count, bytes[end] != 0 { end += 1 }
                defer { at = end + 1 }
                guard tab < end else { continue }
                let path = String(decoding: UnsafeBufferPointer(rebasing: bytes[(tab + 1)..<end]), as: UTF8.self)
                guard wanted(path) else { continue }
                let fields = UnsafeBufferPointer(rebasing: bytes[at..<tab]).split(separator: UInt8(ascii: " "))
                guard fields.count == 4 else { continue }
                files.append(File(path: path, object: String(decoding: fields[2], as: UTF8.self),
                                  size: Int(String(decoding: fields[3], as: UTF8.self)) ?? 0))
            }
            return files
        }
    }

    /// The contents of many blobs from one `git cat-file --batch` (one process, not one per file).
    func blobs(_ objects: [String]) async throws -> [String: Data] {
        guard let out = try await catFile("--batch", objects)?.stdout else { return [:] }
        var blobs: [String: Data] = [:]
        var at = out.startIndex
        while at < out.endIndex, let newline = out[at...].firstIndex(of: UInt8(ascii: "\n")) {
            // "<object> <type> <size>\n<content>\n", or "<name> missing\n"
            let header = out[at..<newline].split(separator: UInt8(ascii: " "))
            at = out.index(after: newline)
            guard header.count == 3, let size = Int(String(decoding: header[2], as: UTF8.self)),
                  out.distance(from: at, to: out.endIndex) >= size else { continue }
            let end = out.index(at, offsetBy: size)
            blobs[String(decoding: header[0], as: UTF8.self)] = Data(out[at..<end])
            at = end < out.endIndex ? out.index(after: end) : end
        }
        return blobs
    }

    /// One file's change between two commits, as `git diff --raw` gives it.
    struct Change: Sendable, Equatable {
        var path: String
        /// Its blob (or, for a submodule, commit) id at the newer commit; nil when it is gone there.
        var object: String?
        /// Its mode at the newer commit ("160000": a submodule).
        var mode: String
    }

    /// What changed between two commits, with the new blob ids: one `git diff --raw`, as long as the change.
    func changes(from old: String, to new: String) async throws -> [Change] {
        let out = try await git.check([gitDir, "diff", "--raw", "-z", "--no-renames", "--no-abbrev", old, new, "--"]).stdout
        // Records: ":<old mode> <new mode> <old id> <new id> <status>\0<path>\0"
        let fields = out.split(separator: 0, omittingEmptySubsequences: false)
        var changes: [Change] = []
        var i = 0
        while i + 1 < fields.count {
            let header = fields[i].split(separator: UInt8(ascii: " "))
            let path = String(decoding: fields[i + 1], as: UTF8.self)
            i += 2
            guard header.count == 5 else { continue }
            let mode = String(decoding: header[1], as: UTF8.self)
            let object = String(decoding: header[3], as: UTF8.self)
            changes.append(Change(path: path, object: mode == "000000" ? nil : object, mode: mode))
        }
        return changes
    }

    /// Sizes of objects in bytes from one `git cat-file --batch-check` (their contents are not read).
    func sizes(_ objects: [String]) async throws -> [String: Int] {
        guard let out = try await catFile("--batch-check", objects)?.text else { return [:] }
        var sizes: [String: Int] = [:]
        for line in out.split(separator: "\n") {
            // "<object> <type> <size>", or "<object> missing"
            let parts = line.split(separator: " ")
            if parts.count == 3, let size = Int(parts[2]) { sizes[String(parts[0])] = size }
        }
        return sizes
    }

    /// One `git cat-file <mode>` for every well-formed object id of `objects`; nil when there is none.
    private func catFile(_ mode: String, _ objects: [String]) async throws -> GitResult? {
        let wanted = objects.filter { Mirror.looksLikeCommitID($0) }
        guard !wanted.isEmpty else { return nil }
        return try await git.check([gitDir, "cat-file", mode], stdin: Data((wanted.joined(separator: "\n") + "\n").utf8))
    }

    /// Files that differ between two commits; both sides of a rename, so the old directory counts too.
    func changedFiles(from old: String, to new: String) async throws -> [String] {
        let out = try await git.check([gitDir, "diff", "--name-only", "-z", "--no-renames", old, new, "--"]).text
        return out.split(separator: "\u{0}").map(String.init)
    }

    /// Whether `directory` ("" = root) is a directory in the commit's tree.
    func hasDirectory(_ directory: String, at commit: String) async throws -> Bool {
        if directory.isEmpty { return true }
        let r = try await git.run([gitDir, "cat-file", "-t", "\(commit):\(directory)"])
        return r.status == 0 && r.text.trimmingCharacters(in: .whitespacesAndNewlines) == "tree"
    }

    /// The folders at the repository's root that its apps share (PipeCD keeps analysis templates in `.pipe/`).
    static let sharedFolders = [".pipe", ".gantry"]

    /// Writes the shared folders the commit has into `destination/<folder>`: one `git ls-tree` when it has none.
    /// Returns whether it wrote any.
    @discardableResult
    func materializeShared(at commit: String, into destination: String) async throws -> Bool {
        let listed = try await git.check([gitDir, "ls-tree", "-z", "--name-only", "-d", commit, "--"] + Mirror.sharedFolders).text
        let present = listed.split(separator: "\u{0}").map(String.init).filter { Mirror.sharedFolders.contains($0) }
        for folder in present { try await materialize(folder, at: commit, into: destination + "/" + folder) }
        return !present.isEmpty
    }

    /// Writes the files of `directory` ("" = the whole repository) at `commit` into `destination`, which
    /// must not exist yet. A private index file keeps this away from the mirror's own state, and
    /// checkout-index keeps file modes and symlinks as committed.
    func materialize(_ directory: String, at commit: String, into destination: String) async throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let index = destination + ".index"
        defer { try? fm.removeItem(atPath: index) }
        let tree = directory.isEmpty ? commit : "\(commit):\(directory)"
        let env = ["GIT_INDEX_FILE": index]
        let workTree = "--work-tree=\(destination)"
        try await git.check([gitDir, workTree, "read-tree", tree], extraEnvironment: env)
        try await git.check([gitDir, workTree, "checkout-index", "--all", "--force"], extraEnvironment: env)
    }
}
