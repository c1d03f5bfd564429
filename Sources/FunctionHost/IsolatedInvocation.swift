import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How one invocation is isolated, and what the stage log should say about it.
struct IsolationPlan {
    var supervisor: SupervisorIsolation?
    var warnings: [String] = []
}

extension FunctionHost {
    /// What isolation needs before the supervisor starts: the invocation directory and the cache made the function
    /// user's, and the supervisor's options. Without isolation, only a warning when the function asked for some.
    func prepareIsolation(_ request: InvocationRequest, program: String) -> Result<IsolationPlan, HostError> {
        let spec = request.function
        guard let isolation else {
            let warnings = spec.network == .none
                ? ["warning: network: none is not applied: function isolation is off on this server"] : []
            return .success(IsolationPlan(supervisor: nil, warnings: warnings))
        }
        let user = isolation.user
        if let problem = InvocationDirectory.handOver(request.directory, to: user) {
            return .failure(HostError(type: "IsolationFailed", message: problem))
        }
        var warnings: [String] = []
        var cache = request.cacheDirectory
        if let dir = cache, let problem = FunctionCache.own(dir, by: user) {
            // The cache is an optimisation: the function runs without it rather than not at all.
            warnings.append("warning: $GANTRY_CACHE is not available to this invocation: \(problem)")
            cache = nil
        }
        return .success(IsolationPlan(
            supervisor: isolation.launch(directory: request.directory, cache: cache, functionFolder: spec.folder,
                                         program: program, readOnly: request.readOnlyPaths, network: spec.network,
                                         memoryBytes: spec.limits.memoryBytes),
            warnings: warnings))
    }
}

extension InvocationDirectory {
    /// Gives the function user the invocation directory (its HOME and working directory) and `tmp/`. `.control`
    /// stays the server's, readable: the server writes `stop` there while the function runs, and must never
    /// write into a folder the function could fill with symlinks.
    static func handOver(_ dir: String, to user: FunctionUser) -> String? {
        for path in [dir, tmp(dir)] where lchown(path, user.uid, user.gid) != 0 {
            return "cannot give \(path) to the function user \(user): \(Posix.errorText())"
        }
        guard chmod(control(dir), 0o755) == 0 else { return "cannot open \(control(dir)) to the function: \(Posix.errorText())" }
        return nil
    }
}

/// `$GANTRY_CACHE` under isolation: the function's user must own it to write in it.
enum FunctionCache {
    /// Makes `dir` a directory owned by `user` (mode 0700). One that belongs to someone else (left from before
    /// isolation, or another functions.user) is moved aside and removed: a cache may be emptied at any time.
    /// Nil on success, else the problem.
    static func own(_ dir: String, by user: FunctionUser) -> String? {
        for _ in 0..<3 {
            var st = stat()
            if lstat(dir, &st) == 0 {
                if (st.st_mode & S_IFMT) == S_IFDIR && st.st_uid == user.uid { return nil }
                let aside = dir + ".old-\(UUID().uuidString.prefix(8).lowercased())"
                if rename(dir, aside) == 0 { try? FileManager.default.removeItem(atPath: aside) }
                continue
            }
            guard errno == ENOENT else { return "cannot read \(dir): \(Posix.errorText())" }
            try? FileManager.default.createDirectory(atPath: (dir as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
            if mkdir(dir, 0o700) != 0 && errno != EEXIST { return "cannot create \(dir): \(Posix.errorText())" }
            if lchown(dir, user.uid, user.gid) != 0 { return "cannot give \(dir) to \(user): \(Posix.errorText())" }
        }
        return "\(dir) keeps changing"
    }
}
