import Foundation

/// All functions found under the configured function paths, and the lookups the engine needs.
public struct FunctionRegistry: Sendable {
    public var functions: [FunctionSpec]
    /// One line per file that could not be loaded ("path/function.yaml:LINE: what is wrong").
    public var problems: [String]
    /// Directories searched for a bare `command[0]` after the function's own folder (e.g. built products).
    public var executableSearchPaths: [String]

    /// Loads every `<path>/*/function.yaml`. A broken function.yaml is reported in `problems` (file + YAML line),
    /// the others still load. When two folders declare the same name, the first (in `paths` order) wins.
    public init(paths: [String], executableSearchPaths: [String]) {
        self.executableSearchPaths = executableSearchPaths
        functions = []
        problems = []
        let fm = FileManager.default
        var seen: [String: String] = [:]
        for path in paths {
            let base = Self.absolute(path)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: base, isDirectory: &isDir), isDir.boolValue else {
                problems.append("\(base): function path does not exist or is not a directory")
                continue
            }
            let entries = ((try? fm.contentsOfDirectory(atPath: base)) ?? []).sorted()
            for entry in entries where !entry.hasPrefix(".") {
                let folder = (base as NSString).appendingPathComponent(entry)
                let file = (folder as NSString).appendingPathComponent("function.yaml")
                guard fm.fileExists(atPath: file) else { continue }
                guard let data = fm.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                    problems.append("\(file): cannot be read as UTF-8 text")
                    continue
                }
                switch FunctionYAML.parse(text, file: file, folder: folder) {
                case .failure(let p):
                    problems += p.messages
                case .success(var spec):
                    do { spec.version = try FunctionVersion.of(folder: folder) } catch {
                        problems.append("\(file): cannot compute the function's version: \(error)")
                        continue
                    }
                    if let first = seen[spec.name] {
                        problems.append("\(file): function name \"\(spec.name)\" is already defined by \(first); ignored")
                        continue
                    }
                    seen[spec.name] = file
                    functions.append(spec)
                }
            }
        }
    }

    /// The function serving `stage`; when several do, the one whose `platform` equals `platformKind`, else the
    /// one that names no platform. nil if none serves it (or several do and none of those rules picks one).
    public func function(forStage stage: String, platformKind: String?) -> FunctionSpec? {
        // A function bound to a platform serves only that platform's apps: Lambda's ROLLBACK must never
        // run for a Kubernetes app. Prefer the platform's own function, then a generic one.
        let serving = functions.filter { $0.stages.contains(stage) }
        if let platformKind, let exact = serving.first(where: { $0.platform == platformKind }) { return exact }
        return serving.first { $0.platform == nil }
    }

    /// `command[0]` resolved: a path relative to the function folder if that file exists, else the first
    /// `executableSearchPaths` dir containing it, else PATH. A failure says where it looked.
    public func resolveExecutable(_ spec: FunctionSpec) -> Result<String, HostError> {
        guard let program = spec.command.first, !program.isEmpty else {
            return .failure(HostError(type: "MissingTool", message: "function \(spec.name) has an empty command"))
        }
        if program.hasPrefix("/") {
            return Self.isExecutable(program) ? .success(program)
                : .failure(HostError(type: "MissingTool", message: "function \(spec.name): \(program) is not an executable file"))
        }
        let inFolder = URL(fileURLWithPath: spec.folder).appendingPathComponent(program).standardizedFileURL.path
        if FileManager.default.fileExists(atPath: inFolder) {
            return Self.isExecutable(inFolder) ? .success(inFolder)
                : .failure(HostError(type: "MissingTool", message: "function \(spec.name): \(inFolder) exists but is not executable (chmod +x?)"))
        }
        if program.contains("/") {
            return .failure(HostError(type: "MissingTool", message: "function \(spec.name): \(program) not found in \(spec.folder)"))
        }
        let pathDirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":").map(String.init)
        for dir in executableSearchPaths + pathDirs where !dir.isEmpty {
            let candidate = (dir as NSString).appendingPathComponent(program)
            if Self.isExecutable(candidate) { return .success(candidate) }
        }
        return .failure(HostError(type: "MissingTool", message:
            "function \(spec.name): command \(program) not found in \(spec.folder), \(executableSearchPaths.joined(separator: ", ")) or PATH"))
    }

    /// The names in `spec.requires` that are not executables: a bare name is looked up on `PATH` (the server's,
    /// which functions inherit), an absolute path is checked as it is, a relative one in the function's folder.
    public func missingTools(_ spec: FunctionSpec,
                             path: String? = ProcessInfo.processInfo.environment["PATH"]) -> [String] {
        let dirs = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        return spec.requires.filter { tool in
            if tool.hasPrefix("/") { return !Self.isExecutable(tool) }
            if tool.contains("/") { return !Self.isExecutable((spec.folder as NSString).appendingPathComponent(tool)) }
            return !dirs.contains { Self.isExecutable(($0 as NSString).appendingPathComponent(tool)) }
        }
    }

    static func isExecutable(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
            && access(path, X_OK) == 0
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
    }
}
