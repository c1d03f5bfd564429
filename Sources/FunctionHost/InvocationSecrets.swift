import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Secrets as files (SPEC part 2): `<dir>/.secrets/<name>`, mode 0400, in a folder made 0500 once written, and
/// gone when the attempt ends. Files, not environment variables: the environment is inherited by every child
/// a script starts and shows up in crash dumps and `/proc/PID/environ`.
extension InvocationDirectory {
    static func secrets(_ dir: String) -> String { (dir as NSString).appendingPathComponent(".secrets") }

    /// Writes every secret; nil on success, else the problem (nothing is left behind then).
    static func writeSecrets(_ values: [String: String], into dir: String) -> String? {
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
            close(fd)
            guard complete else {
                removeSecrets(dir)
                return "cannot write secret \(name): \(Posix.errorText())"
            }
        }
        chmod(folder, 0o500)
        return nil
    }

    /// Removes `<dir>/.secrets` whatever its modes (a 0500 folder refuses unlinking its files to non-root users).
    static func removeSecrets(_ dir: String) {
        let folder = secrets(dir)
        guard chmod(folder, 0o700) == 0 else { return } // no such folder
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            unlink((folder as NSString).appendingPathComponent(name))
        }
        rmdir(folder)
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
