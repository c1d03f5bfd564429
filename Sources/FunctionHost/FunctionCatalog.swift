import Foundation
import Synchronization

/// The functions under the function paths as they are now, so a function folder added, changed or removed while
/// the server runs is used without a restart.
///
/// Reading the folders again (parsing every function.yaml, hashing every file for the version) happens only when
/// something changed. Finding out is a `stat` of each function path, of each folder in it and of each entry directly
/// in those folders, compared with the last read; a directory's mtime moves when an entry is added, removed or
/// renamed in it, so no directory is listed again to find out. That comparison runs at most once per
/// `checkInterval` for all lookups together, and at once when a lookup misses or returns a function whose own folder
/// changed since it was read (a few `stat`s). So a new stage name, a changed function and a removed one are seen by
/// the next lookup; what can lag by up to `checkInterval` is only a new folder that would be preferred over an
/// existing function for the same stage. An edit in place deeper than the folder's direct entries is seen with the
/// next change above it (the function runs the edited file anyway; only its recorded version lags).
public final class FunctionCatalog: Sendable {
    public let paths: [String]
    public let executableSearchPaths: [String]
    public let checkInterval: Double
    /// Called after a read that found the folders changed, with the functions before and after, outside the lock.
    private let onChange: @Sendable (_ before: FunctionRegistry, _ after: FunctionRegistry) -> Void
    private let state: Mutex<State>

    private struct State {
        var registry: FunctionRegistry
        var stamps: FolderStamps
        /// Monotonic seconds of the last comparison of all stamps.
        var checkedAt: Double
        /// How many times the folders were read, the first included.
        var reads = 1
    }

    /// How many times the folders were read, the first included: reading is the cost this type exists to avoid.
    var reads: Int { state.withLock { $0.reads } }

    public init(paths: [String], executableSearchPaths: [String], checkInterval: Double = 1,
                onChange: @escaping @Sendable (_ before: FunctionRegistry, _ after: FunctionRegistry) -> Void = { _, _ in }) {
        self.paths = paths
        self.executableSearchPaths = executableSearchPaths
        self.checkInterval = checkInterval
        self.onChange = onChange
        // Stamps first: a change made while the folders are read shows as a difference at the next look.
        let stamps = FolderStamps.take(paths: paths)
        state = Mutex(State(registry: FunctionRegistry(paths: paths, executableSearchPaths: executableSearchPaths),
                            stamps: stamps, checkedAt: Posix.monotonicNow()))
    }

    /// The functions as of the last read, looking at the folders first when the last look is `checkInterval` old.
    public var registry: FunctionRegistry {
        lookup { state, changes in
            Self.look(&state, paths: paths, searchPaths: executableSearchPaths, force: false,
                      interval: checkInterval, changes: &changes)
            return state.registry
        }
    }

    /// The function serving `stage` (see `FunctionRegistry.function(forStage:platformKind:)`), as the folders are now.
    public func function(forStage stage: String, platformKind: String?) -> FunctionSpec? {
        lookup { state, changes in
            let looked = Self.look(&state, paths: paths, searchPaths: executableSearchPaths, force: false,
                                   interval: checkInterval, changes: &changes)
            if let found = state.registry.function(forStage: stage, platformKind: platformKind),
               looked || state.stamps.unchanged(folder: found.folder) {
                return found
            }
            if looked { return nil }
            Self.look(&state, paths: paths, searchPaths: executableSearchPaths, force: true, interval: checkInterval,
                      changes: &changes)
            return state.registry.function(forStage: stage, platformKind: platformKind)
        }
    }

    private func lookup<T>(_ body: (inout State, inout [(FunctionRegistry, FunctionRegistry)]) -> T) -> T {
        var changes: [(FunctionRegistry, FunctionRegistry)] = []
        let result = state.withLock { body(&$0, &changes) }
        for (before, after) in changes { onChange(before, after) }
        return result
    }

    /// Compares the stamps (when forced or due) and reads the folders again if they differ. Returns whether it
    /// compared.
    @discardableResult
    private static func look(_ state: inout State, paths: [String], searchPaths: [String], force: Bool,
                             interval: Double, changes: inout [(FunctionRegistry, FunctionRegistry)]) -> Bool {
        let now = Posix.monotonicNow()
        guard force || now - state.checkedAt >= interval else { return false }
        state.checkedAt = now
        if state.stamps.unchanged() { return true }
        let stamps = FolderStamps.take(paths: paths)
        let registry = FunctionRegistry(paths: paths, executableSearchPaths: searchPaths)
        changes.append((state.registry, registry))
        state.registry = registry
        state.stamps = stamps
        state.reads += 1
        return true
    }
}

/// What a look at the function paths saw: a stamp of each path, of each directory in it (a function folder or one
/// that may become one), and of each entry directly in those directories.
struct FolderStamps: Equatable {
    /// Enough of `stat` to see a change: a replaced file has a new inode, an edit a new size or mtime, a chmod a new
    /// ctime. nil: missing.
    struct Stamp: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, mode: UInt32
        var modified: timespec, changed: timespec

        static func of(_ path: String) -> Stamp? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return Stamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                         mode: UInt32(info.st_mode), modified: info.st_mtim, changed: info.st_ctim)
        }

        static func == (a: Stamp, b: Stamp) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size && a.mode == b.mode
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
        }

        var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
    }

    var roots: [String: Stamp?] = [:]
    /// Folder -> the stamps of the folder itself (key "") and of each entry directly in it.
    var folders: [String: [String: Stamp?]] = [:]

    static func take(paths: [String]) -> FolderStamps {
        var out = FolderStamps()
        for path in paths {
            let root = FunctionRegistry.absolute(path)
            let rootStamp = Stamp.of(root)
            out.roots[root] = rootStamp
            guard rootStamp?.isDirectory == true else { continue }
            // Hidden entries are skipped, as the registry skips them.
            for entry in ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []) where !entry.hasPrefix(".") {
                let folder = (root as NSString).appendingPathComponent(entry)
                guard let folderStamp = Stamp.of(folder), folderStamp.isDirectory else { continue }
                var inside: [String: Stamp?] = ["": folderStamp]
                for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                    inside[name] = Stamp.of((folder as NSString).appendingPathComponent(name))
                }
                out.folders[folder] = inside
            }
        }
        return out
    }

    /// Every path stamped still looks the same.
    func unchanged() -> Bool {
        roots.allSatisfy { Stamp.of($0.key) == $0.value } && folders.keys.allSatisfy(unchanged(folder:))
    }

    /// The folder and the entries directly in it still look the same (false for a folder not seen last time).
    func unchanged(folder: String) -> Bool {
        guard let inside = folders[folder] else { return false }
        return inside.allSatisfy { name, stamp in
            Stamp.of(name.isEmpty ? folder : (folder as NSString).appendingPathComponent(name)) == stamp
        }
    }
}
