import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import FunctionKit

/// A FAKE Kubernetes API server (Tests/Support/fake-kube-apiserver.py) on a loopback port, over TLS with its own
/// CA and a bearer token, as a cluster would be: the real `kubectl` talks to it through the kubeconfig this
/// writes. Its test controls (objects, history of creations, held answers, injected refusals) answer on a second,
/// plain-http port.
public final class FakeKubeAPIServer: @unchecked Sendable {
    public let directory: String
    public let token = "fake-token-\(UUID().uuidString.prefix(8))"
    public private(set) var port = 0
    public private(set) var controlPort = 0
    public var caPath: String { directory + "/ca.crt" }
    public var url: String { "https://127.0.0.1:\(port)" }
    private let process = Process()

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public init() throws {
        directory = NSTemporaryDirectory() + "fake-kube-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let log = directory + "/server.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "--token", token, "--tls-dir", directory]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle; process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                let parts = line.split(separator: " ")
                port = Int(parts[2]) ?? 0; controlPort = Int(parts[4]) ?? 0
                return
            }
            guard process.isRunning else { throw Failure(description: "fake-kube-apiserver exited: \(text)") }
            usleep(20_000)
        }
        throw Failure(description: "fake-kube-apiserver did not start within 20 s")
    }

    deinit { stop() }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Tests/Support/fake-kube-apiserver.py, found from this file's place in the repository.
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/fake-kube-apiserver.py").path
    }

    public var log: String { (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? "" }

    /// A `platforms:` entry of the server config (one line of flow YAML) that deploys to this server as `name`.
    public func platformEntry(name: String = "dev-cluster", context: String = "dev") throws -> String {
        "- {name: \(name), kind: kubernetes, kubeconfig: \(try writeKubeconfig(context: context)), context: \(context)}"
    }

    /// A kubeconfig with one context `context` for this server (CA file, bearer token); returns its path.
    @discardableResult
    public func writeKubeconfig(context: String = "fake", namespace: String = "default", token: String? = nil) throws -> String {
        let path = directory + "/kubeconfig-\(context)"
        try """
        apiVersion: v1
        kind: Config
        clusters:
        - name: fake-cluster
          cluster: {server: "\(url)", certificate-authority: "\(caPath)"}
        users:
        - name: fake-user
          user: {token: "\(token ?? self.token)"}
        contexts:
        - name: \(context)
          context: {cluster: fake-cluster, user: fake-user, namespace: \(namespace)}
        current-context: \(context)

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The platform entry a server config or an event carries for this server.
    public func platform(context: String = "fake") throws -> JSONValue {
        .object(["name": .string("fake-cluster"), "kind": .string("kubernetes"),
                 "kubeconfig": .string(try writeKubeconfig(context: context)), "context": .string(context)])
    }

    /// A server config's `platforms:` section with this server as its only kubernetes platform, `dev-cluster`.
    public func platformsYAML(context: String = "dev") throws -> String {
        "platforms:\n  " + (try platformEntry(context: context))
    }

    // MARK: - What the "cluster" holds

    public struct Object {
        public let resource: String
        public let namespace: String
        public let name: String
        public let object: JSONValue
        public var labels: [String: String] { (object["metadata"]?["labels"]?.object ?? [:]).compactMapValues(\.string) }
        public subscript(path: String) -> JSONValue? {
            var v: JSONValue? = object
            for part in path.split(separator: ".") {
                if let i = Int(part) { v = v?.array.flatMap { i < $0.count ? $0[i] : nil } } else { v = v?[String(part)] }
            }
            return v
        }
    }

    public func objects(_ resource: String? = nil) throws -> [Object] {
        try control("GET", "/fake/objects").array?.compactMap { o -> Object? in
            guard let r = o["resource"]?.string, resource == nil || r == resource else { return nil }
            return Object(resource: r, namespace: o["namespace"]?.string ?? "", name: o["name"]?.string ?? "",
                          object: o["object"] ?? .null)
        } ?? []
    }

    public func object(_ resource: String, _ name: String, namespace: String = "default") throws -> Object? {
        try objects(resource).first { $0.name == name && $0.namespace == namespace }
    }

    /// Every change in order: {"seq", "verb": create|update|delete, "kind", "namespace", "name", "object"}.
    public func history() throws -> [JSONValue] { try control("GET", "/fake/history").array ?? [] }

    /// How many times an object of `kind` named `name` was created (not updated).
    public func creations(kind: String, name: String) throws -> Int {
        try history().filter { $0["verb"]?.string == "create" && $0["kind"]?.string == kind && $0["name"]?.string == name }.count
    }

    // MARK: - Faults

    /// Writes whose "VERB /path" matches `pattern` take effect, then their answer waits until `release()`.
    public func hold(_ pattern: String) throws { _ = try control("POST", "/fake/hold", ["pattern": .string(pattern)]) }
    public var held: Int { (try? control("GET", "/fake/held")["held"]?.number).flatMap { $0 }.map { Int($0) } ?? 0 }
    public func release() throws { _ = try control("POST", "/fake/release") }
    /// Writes matching `pattern` are refused with `code`/`reason`/`message`, as an admission webhook or RBAC would.
    public func fail(_ pattern: String, code: Int = 403, reason: String = "Forbidden", message: String) throws {
        _ = try control("POST", "/fake/fail", ["pattern": .string(pattern), "code": .number(Double(code)),
                                               "reason": .string(reason), "message": .string(message)])
    }
    public func clearFaults() throws { _ = try control("POST", "/fake/clear-faults") }

    private func control(_ method: String, _ path: String, _ body: [String: JSONValue]? = nil) throws -> JSONValue {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(controlPort)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 10
        if let body { request.httpBody = Data(JSONValue.object(body).encoded().utf8) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Data, Error> = .failure(Failure(description: "no answer"))
        URLSession.shared.dataTask(with: request) { data, _, error in
            result = error.map { .failure($0) } ?? .success(data ?? Data())
            done.signal()
        }.resume()
        done.wait()
        return try JSONValue.decode(String(decoding: try result.get(), as: UTF8.self))
    }
}
