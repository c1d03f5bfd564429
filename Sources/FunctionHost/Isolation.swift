import Foundation
import FunctionKit
#if canImport(Glibc)
import Glibc
#endif

/// The user a function runs as under isolation.
public struct FunctionUser: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32

    public init(name: String, uid: UInt32, gid: UInt32) { self.name = name; self.uid = uid; self.gid = gid }

    public var description: String { "\(name) (uid \(uid), gid \(gid))" }

    public struct Unknown: Error, CustomStringConvertible { public let description: String }

    /// A user name, a uid, or `UID:GID`. A bare uid takes its passwd entry's group, or the same number as gid when
    /// it has none (a container may run with uids that have no entry).
    public static func resolve(_ text: String) throws -> FunctionUser {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, let uid = UInt32(parts[0]), let gid = UInt32(parts[1]), uid != UInt32.max, gid != UInt32.max {
            return FunctionUser(name: passwdName(uid) ?? String(uid), uid: uid, gid: gid)
        }
        if let uid = UInt32(trimmed), uid != UInt32.max {
            let entry = self.entry(uid: uid)
            return FunctionUser(name: entry?.name ?? trimmed, uid: uid, gid: entry?.gid ?? uid)
        }
        guard !trimmed.isEmpty, let entry = self.entry(name: trimmed) else {
            throw Unknown(description: "functions.user: no user named \"\(text)\" on this machine (a name, a uid or UID:GID)")
        }
        return FunctionUser(name: trimmed, uid: entry.uid, gid: entry.gid)
    }

    /// The user the server itself runs as.
    public static var server: FunctionUser {
        let uid = geteuid(), gid = getegid()
        return FunctionUser(name: passwdName(uid) ?? String(uid), uid: uid, gid: gid)
    }

    /// Who runs functions when `functions.user` is not set: `nobody` when the server is root (a function must not
    /// be root), else the server's own user (the only one it can switch to).
    public static func defaultUser() throws -> FunctionUser {
        geteuid() == 0 ? try resolve("nobody") : server
    }

    private static func passwdName(_ uid: UInt32) -> String? { entry(uid: uid)?.name }

    private static func entry(uid: UInt32) -> (name: String, uid: UInt32, gid: UInt32)? {
        lookup { pwd, buffer, size, result in getpwuid_r(uid, pwd, buffer, size, result) }
    }

    private static func entry(name: String) -> (name: String, uid: UInt32, gid: UInt32)? {
        lookup { pwd, buffer, size, result in getpwnam_r(name, pwd, buffer, size, result) }
    }

    private static func lookup(_ call: (UnsafeMutablePointer<Glibc.passwd>, UnsafeMutablePointer<CChar>, Int,
                                        UnsafeMutablePointer<UnsafeMutablePointer<Glibc.passwd>?>) -> Int32)
        -> (name: String, uid: UInt32, gid: UInt32)? {
        var pwd = Glibc.passwd()
        var result: UnsafeMutablePointer<Glibc.passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let rc = buffer.withUnsafeMutableBufferPointer { call(&pwd, $0.baseAddress!, $0.count, &result) }
        guard rc == 0, let entry = result?.pointee else { return nil }
        return (String(cString: entry.pw_name), entry.pw_uid, entry.pw_gid)
    }
}

/// How the host isolates every invocation (see `gantry-supervise`): its own mount namespace where `hidden` paths
/// are gone (the server's data dir, config file, secret files) and only the invocation's own paths are bound
/// back, a private /tmp, the function's user instead of the server's, and no network for `network: none`.
public struct FunctionIsolation: Sendable, Equatable {
    public var user: FunctionUser
    /// Absolute paths no function may see. A directory is replaced by an empty read-only one; a file by one that
    /// nobody but root may open.
    public var hidden: [String]
    /// Paths every function sees as they are even where isolation would hide them (under /tmp); hidden paths
    /// inside them stay hidden.
    public var kept: [String]

    public init(user: FunctionUser, hidden: [String], kept: [String] = []) {
        self.user = user
        self.hidden = Self.canonical(hidden)
        self.kept = Self.canonical(kept)
    }

    /// Why `kept` cannot be honoured, or nil: `/` (its bind would drop /proc and every other mount), a hidden
    /// path, or one inside a hidden path (the data dir's contents are the server's).
    public func keptProblem() -> String? {
        for path in kept {
            if path == "/" { return "/ cannot be kept (that would be no file system isolation at all)" }
            if let hiding = hidden.first(where: { Self.isWithin(path, $0) }) {
                return path == hiding ? "\(path) is hidden from functions" : "\(path) is inside \(hiding), which is hidden from functions"
            }
        }
        return nil
    }

    /// Absolute, symlinks resolved where the path exists (the supervisor mounts on what the path leads to, and a
    /// kept path is compared with hidden ones by prefix), duplicates removed, order kept.
    static func canonical(_ paths: [String]) -> [String] {
        var seen = Set<String>()
        return paths.compactMap { path -> String? in
            guard path.hasPrefix("/") else { return nil }
            let resolved = realpathOrSelf(path)
            return seen.insert(resolved).inserted ? resolved : nil
        }
    }

    static func realpathOrSelf(_ path: String) -> String {
        guard let p = realpath(path, nil) else { return URL(fileURLWithPath: path).standardizedFileURL.path }
        defer { free(p) }
        return String(cString: p)
    }

    /// Whether `path` is `other` or inside it.
    static func isWithin(_ path: String, _ other: String) -> Bool {
        if other == "/" { return true }
        return path == other || path.hasPrefix(other.hasSuffix("/") ? other : other + "/")
    }

    /// The supervisor's isolation options for one invocation. A kept path that is itself hidden is left out
    /// (hiding wins; hidden paths inside a kept folder stay hidden in it). A path that is neither under /tmp nor
    /// under a hidden one is visible as it is, and read-only ones there cost no mount.
    func launch(directory: String, cache: String?, functionFolder: String, program: String, readOnly: [String],
                network: FunctionNetwork, memoryBytes: UInt64?) -> SupervisorIsolation {
        func concealed(_ path: String) -> Bool {
            Self.isWithin(path, "/tmp") || hidden.contains { Self.isWithin(path, $0) }
        }
        let shared = kept.filter(concealed)
        let writable = ([directory] + (cache.map { [$0] } ?? [])).map(Self.realpathOrSelf) + shared
        let readOnlyPaths = ([functionFolder, program] + readOnly).map(Self.realpathOrSelf)
        var keep: [(path: String, readOnly: Bool)] = []
        var seen = Set<String>()
        for (path, ro) in writable.map({ ($0, false) }) + readOnlyPaths.map({ ($0, true) }) {
            guard !hidden.contains(path), !ro || concealed(path), FileManager.default.fileExists(atPath: path) else { continue }
            // A path inside another kept one is reached through it, unless it must be read-only and that one is
            // not, or a hidden folder lies between them.
            if keep.contains(where: { outer in
                Self.isWithin(path, outer.path) && (outer.readOnly || !ro)
                    && !hidden.contains { Self.isWithin(path, $0) && Self.isWithin($0, outer.path) }
            }) { continue }
            guard seen.insert(path).inserted else { continue }
            keep.append((path, ro))
        }
        // Outer paths first: one bound inside another must come after it, or the outer bind would cover it.
        keep.sort { $0.path.count < $1.path.count }
        return SupervisorIsolation(hide: hidden, keep: keep, user: user, networkNone: network == .none,
                                   tmpBytes: memoryBytes)
    }
}

/// `network:` in function.yaml.
public enum FunctionNetwork: String, Sendable, Equatable {
    /// The machine's network, as the server has it.
    case host
    /// An empty network namespace: only its own loopback.
    case none
}

/// What the supervisor does between fork and exec (see Sources/Supervisor/main.c).
struct SupervisorIsolation: Equatable {
    var hide: [String]
    var keep: [(path: String, readOnly: Bool)]
    var user: FunctionUser
    var networkNone: Bool
    /// The private /tmp's size (it is memory): the function's memory limit, when it has one.
    var tmpBytes: UInt64?

    static func == (a: SupervisorIsolation, b: SupervisorIsolation) -> Bool {
        a.hide == b.hide && a.keep.map(\.path) == b.keep.map(\.path) && a.keep.map(\.readOnly) == b.keep.map(\.readOnly)
            && a.user == b.user && a.networkNone == b.networkNone && a.tmpBytes == b.tmpBytes
    }

    var arguments: [String] {
        var args = ["--isolate"]
        for path in hide { args += ["--hide", path] }
        for k in keep { args += [k.readOnly ? "--keep-ro" : "--keep", k.path] }
        if let tmpBytes { args += ["--tmp-size", String(tmpBytes)] }
        if networkNone { args += ["--network", "none"] }
        args += ["--user", "\(user.uid):\(user.gid)"]
        return args
    }
}

extension FunctionIsolation {
    /// Paths a platform entry names (`kubeconfig: /etc/k.yaml`, `credentials: file:/etc/aws`, a `kubectl:`
    /// binary): its functions read them, so they stay visible. A file's folder too: a kubeconfig names its
    /// certificates beside it. Only paths that exist; whether they need a mount at all is decided per invocation.
    public static func pathsNamed(in settings: JSONValue) -> [String] {
        var found: [String] = []
        func visit(_ value: JSONValue) {
            switch value {
            case .array(let items): items.forEach(visit)
            case .object(let fields): fields.keys.sorted().forEach { visit(fields[$0]!) }
            case .string(let text):
                let path = text.hasPrefix("file:/") ? String(text.dropFirst(5)) : text
                guard path.hasPrefix("/"), path.count > 1, !path.contains("\n") else { return }
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
                found.append(path)
                if !isDir.boolValue {
                    let folder = (path as NSString).deletingLastPathComponent
                    if folder != "/" && !folder.isEmpty { found.append(folder) }
                }
            default: break
            }
        }
        visit(settings)
        return found
    }
}
