import Foundation

/// kubectl's minor version, remembered in the function's cache per binary (path, size and modification time), so
/// a stage does not pay for a `kubectl version` run (~60 ms) each time. Without a cache it just asks kubectl.
struct KubectlVersionCache {
    let cacheDir: String?

    func minor(of kubectl: String, ask: () -> Int?) -> Int? {
        guard let cacheDir, let binary = Self.resolve(kubectl),
              let attributes = try? FileManager.default.attributesOfItem(atPath: binary),
              let size = attributes[.size] as? Int, let modified = attributes[.modificationDate] as? Date else {
            return ask()
        }
        let identity = "\(binary)\t\(size)\t\(Int(modified.timeIntervalSince1970))"
        let file = cacheDir + "/client-version"
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
            if parts.count >= 2, parts[0] == identity, let minor = Int(parts[1]) { return minor }
        }
        guard let minor = ask() else { return nil }
        // Written whole (temp file + rename): concurrent stages never read half a file.
        try? FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: true)
        let temp = file + ".\(getpid()).tmp"
        if (try? Data("\(identity)\n\(minor)\n".utf8).write(to: URL(fileURLWithPath: temp))) != nil {
            if rename(temp, file) != 0 { unlink(temp) }
        }
        return minor
    }

    /// The file `kubectl` names: a path as it is, a bare name looked up on PATH.
    static func resolve(_ kubectl: String) -> String? {
        if kubectl.contains("/") { return kubectl }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(kubectl)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
