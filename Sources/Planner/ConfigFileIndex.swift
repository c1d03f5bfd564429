import Synchronization

/// The config files of each repository's last planned commit. The next commit's list is that list with what
/// `git diff` says changed since, so a push to a monorepo of thousands of applications costs what it changed, not
/// a listing of the whole tree. The first commit of a repository (or one the diff cannot reach) is listed whole.
final class ConfigFileIndex: Sendable {
    private struct Snapshot: Sendable {
        var commit: String
        /// In `git ls-tree -r` order (bytewise by path), which decides which of two apps claims a name first.
        var files: [Mirror.File]
    }

    private let last = Mutex<[String: Snapshot]>([:])

    func files(repository: String, at commit: String, mirror: Mirror,
               where wanted: @Sendable (String) -> Bool) async throws -> [Mirror.File] {
        let base = last.withLock { $0[repository] }
        if let base, base.commit == commit { return base.files }
        var files: [Mirror.File]
        if let base, let updated = try? await Self.update(base.files, from: base.commit, to: commit, mirror: mirror,
                                                          wanted: wanted) {
            files = updated
        } else {
            files = try await mirror.files(at: commit, where: wanted)
        }
        last.withLock { $0[repository] = Snapshot(commit: commit, files: files) }
        return files
    }

    /// `files` (the wanted files at `old`) as they are at `new`.
    static func update(_ files: [Mirror.File], from old: String, to new: String, mirror: Mirror,
                       wanted: (String) -> Bool) async throws -> [Mirror.File] {
        let changes = try await mirror.changes(from: old, to: new).filter { wanted($0.path) }
        guard !changes.isEmpty else { return files }
        // A submodule has no size (as `ls-tree -l` shows it); every other new object's size comes from git.
        let sizes = try await mirror.sizes(changes.filter { $0.mode != "160000" }.compactMap(\.object))
        var byPath: [String: Mirror.File] = [:]
        byPath.reserveCapacity(files.count)
        for file in files { byPath[file.path] = file }
        for change in changes {
            guard let object = change.object else { byPath[change.path] = nil; continue }
            byPath[change.path] = Mirror.File(path: change.path, object: object, size: sizes[object] ?? 0)
        }
        return byPath.values.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }
}
