import Digest
import Foundation

/// A function's version: the lower-case hex SHA-256 over its folder's files, taken in sorted relative-path
/// order, each as `path NUL contents`. Any edit, added or removed file changes it; touching a file (mtime) or
/// moving the folder does not. Only `.git` is skipped: whatever else is in the folder can change behaviour.
enum FunctionVersion {
    struct Unreadable: Error, CustomStringConvertible { let description: String }

    static func of(folder: String) throws -> String {
        let files = try relativeFiles(in: folder)
        guard let sha = Digest.SHA256Stream() else { throw Unreadable(description: "SHA-256 unavailable") }
        for path in files {
            Array(path.utf8 + [0]).withUnsafeBytes(sha.update)
            try stream(folder + "/" + path, into: sha.update)
        }
        guard let digest = sha.finish() else { throw Unreadable(description: "SHA-256 failed") }
        return Digest.hex(digest)
    }

    /// Relative paths of the regular files (and symlinks to files) under `folder`, sorted bytewise.
    /// Symlinked directories are not followed, so a link loop cannot hang the registry.
    static func relativeFiles(in folder: String) throws -> [String] {
        var out: [String] = []
        func walk(_ relative: String) throws {
            let dir = relative.isEmpty ? folder : folder + "/" + relative
            let entries: [String]
            do { entries = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
                throw Unreadable(description: "cannot list \(dir): \(error.localizedDescription)")
            }
            for name in entries where name != ".git" {
                let path = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(folder + "/" + path, &info) == 0 else { continue } // vanished meanwhile
                switch info.st_mode & S_IFMT {
                case S_IFDIR: try walk(path)
                case S_IFREG: out.append(path)
                case S_IFLNK:
                    var target = stat()
                    if stat(folder + "/" + path, &target) == 0, target.st_mode & S_IFMT == S_IFREG { out.append(path) }
                default: break // sockets, fifos: no contents to speak of
                }
            }
        }
        try walk("")
        return out.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private static func stream(_ path: String, into update: (UnsafeRawBufferPointer) -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Unreadable(description: "cannot read \(path): \(Posix.errorText())") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n == 0 { return }
            if n < 0 {
                if errno == EINTR { continue }
                throw Unreadable(description: "cannot read \(path): \(Posix.errorText())")
            }
            update(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        }
    }
}
