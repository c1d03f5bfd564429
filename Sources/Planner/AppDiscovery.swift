import Foundation
import RepositoryYAML

/// One application config file found at a commit: either usable (`config`) or not (`problem`).
struct DiscoveredApp: Sendable {
    var name: String
    var path: String              // directory of the config file ("" = repository root)
    var configFile: String
    var config: AppConfig?
    var problem: String?          // the application's configError
    var platform: String?         // resolved platform name from the server config
    var kindName: String          // KubernetesApp, ..., App; "" when the file could not be read that far
}

/// Every application of a repository at one commit.
struct Discovery: Sendable {
    var apps: [DiscoveredApp] = []
    /// Problems that cannot be stored on an application (its name belongs to another one).
    var problems: [String] = []
}

enum AppDiscovery {
    static let exactNames: Set<String> = ["app.gantry.yaml", "app.pipecd.yaml", ".pipe.yaml"]
    /// The most config bytes held in memory at once while reading them (one file may be up to the YAML size budget).
    static let readChunkBytes = 16 << 20

    /// nil: not a config file; true: must be an application config; false: `*.pipecd.yaml`, which may
    /// also hold PipeCD's other kinds of config.
    static func configFileKind(_ file: String) -> Bool? {
        let base = file.lastIndex(of: "/").map { file[file.index(after: $0)...] } ?? file[...]
        if exactNames.contains(String(base)) { return true }
        if base.hasSuffix(".pipecd.yaml"), base.count > ".pipecd.yaml".count { return false }
        return nil
    }

    static func directory(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "" }
        return String(file[..<slash])
    }

    static func defaultName(directory: String, repositoryID: String) -> String {
        directory.isEmpty ? repositoryID : String(directory.split(separator: "/").last ?? "")
    }

    /// Reads every config file at `commit`: their list from `index` (the last planned commit's list and a `git diff`
    /// from it, or one `ls-tree` of the whole tree the first time), then `cat-file --batch` (one per 16 MiB) for the
    /// configs the cache has not parsed at that content. Usable apps claim their names first (in path order), so
    /// a broken file whose fallback name collides never hides a working application.
    static func discover(mirror: Mirror, commit: String, repositoryID: String, platforms: [PlatformConfig],
                         kinds: AppKinds, cache: ConfigCache, index: ConfigFileIndex) async throws -> Discovery {
        func key(_ file: Mirror.File, _ strict: Bool) -> ConfigCache.Key {
            ConfigCache.Key(object: file.object, strict: strict, kinds: kinds)
        }
        let maxBytes = RepositoryYAML.Budget.standard.maxBytes
        let configs = try await index.files(repository: repositoryID, at: commit, mirror: mirror,
                                            where: { configFileKind($0) != nil }).compactMap { file in
            configFileKind(file.path).map { (file: file, strict: $0) }
        }
        // Configs the cache has not seen are read and parsed a bounded number of bytes at a time: a push may hold
        // any number of them, and only their parse results are kept.
        var fresh: [ConfigCache.Key: ConfigCache.Parsed] = [:]
        var chunk: [(file: Mirror.File, strict: Bool)] = []
        var chunkBytes = 0
        func parseChunk() async throws {
            let blobs = try await mirror.blobs(Array(Set(chunk.map(\.file.object))))
            for (file, strict) in chunk {
                guard let data = blobs[file.object] else { continue }
                fresh[key(file, strict)] = parse(String(decoding: data, as: UTF8.self), kinds: kinds, strict: strict)
            }
            chunk = []
            chunkBytes = 0
        }
        for config in configs where config.file.size <= maxBytes && cache.parsed(key(config.file, config.strict)) == nil {
            if chunkBytes + config.file.size > readChunkBytes { try await parseChunk() }
            chunk.append(config)
            chunkBytes += config.file.size
        }
        if !chunk.isEmpty { try await parseChunk() }

        var usable: [DiscoveredApp] = []
        var broken: [DiscoveredApp] = []
        for (file, strict) in configs {
            let dir = directory(of: file.path)
            var app = DiscoveredApp(name: defaultName(directory: dir, repositoryID: repositoryID), path: dir,
                                    configFile: file.path, kindName: "")
            let parsed: ConfigCache.Parsed
            if file.size > maxBytes {
                // Never read into memory at all.
                parsed = .failure(ConfigProblem(line: nil, message: "the file has \(file.size) bytes; the limit is \(maxBytes)"))
            } else if let known = cache.parsed(key(file, strict)) {
                parsed = known
            } else if let read = fresh[key(file, strict)] {
                parsed = read
                cache.store(parsed, for: key(file, strict))
            } else {
                parsed = .failure(ConfigProblem(line: nil, message: "not a file git can read (a submodule?)"))
            }
            do {
                guard let config = try parsed.get() else { continue }
                app.kindName = config.kind.name
                if let name = config.name { app.name = name }
                app.platform = try resolvePlatform(config, platforms)
                app.config = config
                usable.append(app)
            } catch let problem as ConfigProblem {
                app.problem = problem.text(file: file.path)
                broken.append(app)
            }
        }

        var discovery = Discovery()
        var claimedBy: [String: String] = [:]    // name -> config file
        for app in usable + broken {
            if let first = claimedBy[app.name] {
                discovery.problems.append("\(app.configFile): duplicate application name \(app.name) (also at \(first))")
                continue
            }
            claimedBy[app.name] = app.configFile
            discovery.apps.append(app)
        }
        return discovery
    }

    private static func parse(_ text: String, kinds: AppKinds, strict: Bool) -> ConfigCache.Parsed {
        do { return .success(try AppConfigParser.parse(text, kinds: kinds, strictKind: strict)) } catch let problem as ConfigProblem {
            return .failure(problem)
        } catch {
            return .failure(ConfigProblem(line: nil, message: "\(error)"))
        }
    }

    /// spec.platform names one platform of the server config; without it, the only platform of the app's
    /// kind is used; with none or several of that kind, the app has no platform (its sync stage will say so).
    static func resolvePlatform(_ config: AppConfig, _ platforms: [PlatformConfig]) throws -> String? {
        guard let kind = config.kind.platformKind else { return config.platform }
        if let named = config.platform {
            guard let platform = platforms.first(where: { $0.name == named }) else {
                let known = platforms.filter { $0.kind == kind }.map(\.name)
                throw ConfigProblem(line: nil, message: "spec.platform \(named) is not a platform in the server config"
                                    + (known.isEmpty ? " (it has no \(kind) platform)" : " (\(kind) platforms: \(known.joined(separator: ", ")))"))
            }
            guard platform.kind == kind else {
                throw ConfigProblem(line: nil, message: "spec.platform \(named) is a \(platform.kind) platform, "
                                    + "but a \(config.kind.name) needs a \(kind) platform")
            }
            return named
        }
        let ofKind = platforms.filter { $0.kind == kind }
        return ofKind.count == 1 ? ofKind[0].name : nil
    }
}
