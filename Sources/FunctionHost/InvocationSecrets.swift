import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Secrets as files (docs/function-protocol.md, "Secrets"): `<dir>/.secrets/<name>`, mode 0400, in a folder made 0500 once written, and
/// gone when the attempt ends. Files, not environment variables: the environment is inherited by every child
/// a script starts and shows up in crash dumps and `/proc/PID/environ`.
extension InvocationDirectory {
    static func secrets(_ dir: String) -> String { (dir as NSString).appendingPathComponent(".secrets") }

    /// Writes every secret; nil on success, else the problem (nothing is left behind then). With `owner` (the
    /// function's user under isolation) each file is that user's, mode 0400, in a folder that stays the server's
    /// (0555): the function can read its secrets but not add, replace or remove any.
    static func writeSecrets(_ values: [String: String], into dir: String, owner: FunctionUser? = nil) -> String? {
        let folder = secrets(dir)
        guard mkdir(folder, 0o700) == 0 else { return "cannot create \(folder): \(Posix.errorText())" }
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            guard SecretName.isValid(name) else {
                removeSecrets(dir)
                return "secret name \"\(name)\" is not a plain file name (\(SecretName.rule))"
            }
            let path = (folder as NSString).appendingPathComponent(name)
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o400)
            guard fd >= 0 else {
                let problem = "cannot write secret \(name): \(Posix.errorText())"
                removeSecrets(dir)
                return problem
            }
            let complete = Array(value.utf8).withUnsafeBytes { writeAll(fd, $0) }
            let owned = owner.map { fchown(fd, $0.uid, $0.gid) == 0 } ?? true
            close(fd)
            guard complete, owned else {
                let problem = "cannot write secret \(name): \(Posix.errorText())"
                removeSecrets(dir)
                return problem
            }
        }
        chmod(folder, owner == nil ? 0o500 : 0o555)
        return nil
    }

    /// Removes `<dir>/.secrets` whatever its modes (a 0500 folder refuses unlinking its files to non-root users).
    /// Never follows a symlink: under isolation the function owns `dir` and may have replaced the folder with a
    /// link to somewhere the server must not chmod or empty.
    static func removeSecrets(_ dir: String) {
        let parent = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard parent >= 0 else { return }
        defer { close(parent) }
        let name = (secrets(dir) as NSString).lastPathComponent
        let folder = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else {
            if errno == ENOTDIR || errno == ELOOP { unlinkat(parent, name, 0) } // something else in its place
            return
        }
        fchmod(folder, 0o700)
        let copy = dup(folder)
        if copy >= 0, let listing = fdopendir(copy) {
            var names: [String] = []
            while let entry = readdir(listing) {
                let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if entryName != "." && entryName != ".." { names.append(entryName) }
            }
            closedir(listing)
            for entryName in names { unlinkat(folder, entryName, 0) }
        } else if copy >= 0 {
            close(copy)
        }
        close(folder)
        unlinkat(parent, name, AT_REMOVEDIR)
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}
