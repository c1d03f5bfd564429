import Foundation
import FunctionKit

/// The real `kubectl`, the only way the function talks to a cluster: the platform's kubeconfig and context on
/// every call, server-side apply owned by the field manager `gantry`.
public struct Kubectl: Sendable {
    public let settings: KubernetesSettings
    /// A kubectl older than 1.25 cannot leave validation to the server (Debian bookworm ships 1.20): it must
    /// download OpenAPI schemas to validate, so validation is turned off there and the stage log says so.
    let clientValidation: Bool
    let log: @Sendable (String) -> Void

    public static let fieldManager = "gantry"

    public init(settings: KubernetesSettings, log: @escaping @Sendable (String) -> Void) throws {
        self.settings = settings
        self.log = log
        let minor = KubectlVersionCache(cacheDir: settings.cacheDir).minor(of: settings.kubectl) {
            Self.clientMinorVersion(settings.kubectl)
        }
        clientValidation = minor.map { $0 >= 25 } ?? true
        if let minor, minor < 25 {
            log("kubectl 1.\(minor) cannot leave validation to the server: applying with --validate=false")
        }
    }

    /// Runs kubectl with the platform's kubeconfig and context; returns stdout, throws with stderr.
    @discardableResult
    public func run(_ args: [String], stdin: String? = nil, what: String) throws -> String {
        var full: [String] = []
        if let k = settings.kubeconfig { full += ["--kubeconfig", k] }
        if let c = settings.context { full += ["--context", c] }
        if let d = settings.cacheDir { full += ["--cache-dir", d] }
        full += args
        let result: (status: Int32, out: String, err: String)
        do { result = try Self.spawn(settings.kubectl, full, stdin: stdin) } catch {
            throw KubectlError(type: "MissingTool", what: what, message: "cannot run \(settings.kubectl): \(error) "
                               + "(install kubectl, or set kubectl: in the platform entry)", isRetryable: false)
        }
        guard result.status == 0 else { throw KubectlError(what: what, stderr: result.err, status: result.status) }
        return result.out
    }

    /// Server-side apply of `manifests`, one kubectl call; the field manager `gantry` takes over conflicting fields
    /// (Git is the source of truth for what Gantry deploys).
    public func apply(_ manifests: [Manifest], what: String) throws {
        guard !manifests.isEmpty else { return }
        var args = ["apply", "--server-side", "--field-manager=\(Self.fieldManager)", "--force-conflicts", "-f", "-"]
        if !clientValidation { args.insert("--validate=false", at: 1) }
        let out = try run(args, stdin: manifests.map(\.json).joined(separator: "\n"), what: what)
        for line in out.split(separator: "\n") { log("kubectl: \(line)") }
    }

    /// Deletes the objects of `kinds` labelled with `selector` in `namespace` (nil: the context's namespace).
    /// Does not wait for finalizers: the next stage does not depend on the objects being gone.
    public func deleteLabelled(kinds: [String], selector: String, namespace: String?, what: String) throws {
        var args = ["delete", kinds.joined(separator: ","), "-l", selector, "--ignore-not-found", "--wait=false"]
        if let namespace { args += ["-n", namespace] }
        let out = try run(args, what: what)
        for line in out.split(separator: "\n") { log("kubectl: \(line)") }
    }

    /// Deletes the named objects (missing ones are fine).
    public func delete(_ keys: [(kind: String, key: ResourceKey)], what: String) throws {
        for (kind, key) in keys {
            var args = ["delete", "\(kind)/\(key.name)", "--ignore-not-found", "--wait=false"]
            if !key.namespace.isEmpty { args += ["-n", key.namespace] }
            let out = try run(args, what: what)
            for line in out.split(separator: "\n") { log("kubectl: \(line)") }
        }
    }

    /// The objects of `kinds` labelled with `selector` in `namespace` (nil: the context's namespace).
    public func list(kinds: [String], selector: String, namespace: String?, what: String) throws -> [Manifest] {
        var args = ["get", kinds.joined(separator: ","), "-l", selector, "-o", "json"]
        if let namespace { args += ["-n", namespace] }
        let text = try run(args, what: what)
        guard let list = try? JSONValue.decode(text) else {
            throw KubectlError(type: "Failed", what: what, message: "kubectl get printed no JSON: \(text.prefix(200))",
                               isRetryable: false)
        }
        return (list["items"]?.array ?? []).compactMap { $0.object.map(Manifest.init(object:)) }
    }

    /// `kubectl kustomize DIR`: the YAML a kustomization builds.
    public func kustomize(_ directory: String) throws -> String {
        try run(["kustomize", directory], what: "building the kustomization")
    }

    static func clientMinorVersion(_ kubectl: String) -> Int? {
        guard let r = try? spawn(kubectl, ["version", "--client", "-o", "json"], stdin: nil), r.status == 0,
              let json = try? JSONValue.decode(r.out), let minor = json["clientVersion"]?["minor"]?.string else { return nil }
        return Int(minor.filter(\.isNumber))
    }

    /// One child process; stdout and stderr go to files so neither pipe can fill up and block it.
    static func spawn(_ program: String, _ args: [String], stdin: String?) throws -> (status: Int32, out: String, err: String) {
        let dir = FileManager.default.temporaryDirectory.path
        let tag = UUID().uuidString.prefix(8)
        let inPath = "\(dir)/kubectl-\(tag).in", outPath = "\(dir)/kubectl-\(tag).out", errPath = "\(dir)/kubectl-\(tag).err"
        defer { for p in [inPath, outPath, errPath] { try? FileManager.default.removeItem(atPath: p) } }
        try Data((stdin ?? "").utf8).write(to: URL(fileURLWithPath: inPath))
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        if program.contains("/") {
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = args
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [program] + args
        }
        p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try p.run()
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        if p.terminationReason == .uncaughtSignal || (p.terminationStatus == 127 && err.contains("No such file")) {
            throw KubectlError(type: "MissingTool", what: "running \(program)", message: err.isEmpty ? "not found" : err,
                               isRetryable: false)
        }
        return (p.terminationStatus, out, err)
    }
}

/// kubectl failed: what the stage was doing, and kubectl's own words (which name the resource).
public struct KubectlError: Error, CustomStringConvertible, Sendable {
    public let type: String
    public let what: String
    public let message: String
    public let isRetryable: Bool

    public init(type: String, what: String, message: String, isRetryable: Bool) {
        self.type = type; self.what = what; self.message = message; self.isRetryable = isRetryable
    }

    /// Typed after kubectl's "Error from server (Reason)" or its connection errors.
    init(what: String, stderr: String, status: Int32) {
        self.what = what
        let lines = stderr.split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("Warning:") && !$0.contains("memcache.go") && !$0.hasPrefix("I1") && !$0.hasPrefix("E1") }
        let text = lines.isEmpty ? "kubectl exited \(status)" : lines.joined(separator: "; ")
        message = text
        // Connection errors first: kubectl wraps them in whatever it was doing ("error validating ...").
        let reasons: [(String, String, Bool)] = [
            ("Unable to connect to the server", "Unreachable", true), ("connection refused", "Unreachable", true),
            ("no such host", "Unreachable", true), ("i/o timeout", "Unreachable", true),
            ("(Forbidden)", "Forbidden", false), ("is forbidden", "Forbidden", false),
            ("(Unauthorized)", "Unauthorized", false), ("provide credentials", "Unauthorized", false),
            (": Unauthorized", "Unauthorized", false),
            ("(Invalid)", "InvalidManifest", false), ("The request is invalid", "InvalidManifest", false), ("\" is invalid: ", "InvalidManifest", false), ("(BadRequest)", "InvalidManifest", false),
            ("error validating", "InvalidManifest", false), ("error parsing", "InvalidManifest", false),
            ("no matches for kind", "InvalidManifest", false), ("(NotFound)", "NotFound", false),
            ("(Conflict)", "Conflict", true), ("(InternalError)", "ServerError", true),
            ("(ServiceUnavailable)", "ServerError", true), ("(Timeout)", "ServerError", true),
            ("context was not found", "InvalidPlatform", false), ("does not exist", "InvalidPlatform", false),
        ]
        let hit = reasons.first { text.contains($0.0) }
        type = hit?.1 ?? "KubectlFailed"
        isRetryable = hit?.2 ?? false
    }

    public var description: String { "\(what): \(message)" }
}
