import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GantryAPI
import XCTest

/// A real `gantry serve` child process on a loopback port, with its own data directory. It can be killed
/// with SIGKILL and started again on the same data, as a crash would leave it.
package final class ServerProcess: @unchecked Sendable {
    package let root: String
    package let port: Int
    package let token = "test-token-\(UUID().uuidString.prefix(8))"
    /// A second identity, for approver checks.
    package let outsiderToken = "outsider-token-\(UUID().uuidString.prefix(8))"
    package var configPath: String { root + "/gantry.yaml" }
    package var dataDir: String { root + "/data" }
    package var url: String { "http://127.0.0.1:\(port)" }
    package private(set) var process: Process?
    private var starts = 0
    /// Extra environment for the server process (e.g. LOG_LEVEL).
    package var environment: [String: String] = [:]

    /// serverYAML: more keys of the `server:` section; repositoryYAML: more keys of the demo repository;
    /// moreRepositoriesYAML: more entries of `repositories:`; extraYAML: more top-level sections.
    package init(root: String, git: GitFixture?, functionsDir: String? = nil, extraYAML: String = "", serverYAML: String = "",
         repositoryYAML: String = "", moreRepositoriesYAML: String = "") throws {
        self.root = root
        port = freePort()
        try token.write(toFile: root + "/api-token", atomically: true, encoding: .utf8)
        try outsiderToken.write(toFile: root + "/outsider-token", atomically: true, encoding: .utf8)
        var yaml = """
        server:
          listen: 127.0.0.1:\(port)
          dataDir: ./data
          tokens:
            - {name: tester, secret: file:\(root)/api-token}
            - {name: outsider, secret: file:\(root)/outsider-token}
        """
        for line in serverYAML.split(separator: "\n") { yaml += "\n  " + line }
        if let git {
            yaml += """

            repositories:
              - id: demo
                remote: \(git.bare)
                branch: main
                webhook:
                  binding: demo
                  provider: github
                  secrets: [file:\(git.secretFile)]
            """
            for line in repositoryYAML.split(separator: "\n") { yaml += "\n    " + line }
            for line in moreRepositoriesYAML.split(separator: "\n") { yaml += "\n  " + line }
        }
        // Functions share the test's /tmp (where tests and their functions leave marks for each other); the
        // server's own paths in it stay hidden from them.
        yaml += "\nfunctions:\n  keep: [\(NSTemporaryDirectory())]"
        if let functionsDir { yaml += "\n  paths: [\(functionsDir)]" }
        yaml += "\n" + extraYAML
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Starts the server and waits until /healthz answers.
    package func start() async throws {
        starts += 1
        let p = Process()
        p.executableURL = URL(fileURLWithPath: productsDirectory + "/gantry")
        p.arguments = ["serve", "--config", configPath]
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let log = root + "/server-\(starts).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = handle; p.standardError = handle
        try p.run()
        process = p
        _ = try await eventually("server on \(url) to answer /healthz", timeout: 30) {
            guard p.isRunning else { throw NSError(domain: "server exited: " + self.logText(), code: 1) }
            return try? await self.request("GET", "/healthz", auth: false).status == 200 ? true : nil
        }
    }

    /// SIGKILL, as power loss or an OOM kill would do it: no shutdown code runs.
    package func kill9() {
        guard let p = process else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    package func stop() {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        process = nil
    }

    /// The running server's peak resident memory (VmHWM), in KiB.
    package func peakRSSKiB() -> Int? {
        guard let pid = process?.processIdentifier,
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
    }

    package func logText() -> String {
        (1...max(starts, 1)).map { (try? String(contentsOfFile: root + "/server-\($0).log", encoding: .utf8)) ?? "" }
            .joined(separator: "\n--- restart ---\n")
    }

    /// An answer as it came: the status and the body, for tests of the wire itself; `decode` reads it as one of
    /// the API's types (GantryAPI), `json` as untyped JSON for the few tests that check the raw shape.
    package struct Answer {
        package let status: Int
        package let data: Data
        package init(status: Int, data: Data) { self.status = status; self.data = data }

        package func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: data) }
        package var json: [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
        package var text: String { String(decoding: data, as: UTF8.self) }
    }

    package struct UnexpectedStatus: Error, CustomStringConvertible { package let description: String }

    package func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:],
                 auth: Bool = true) async throws -> Answer {
        var r = URLRequest(url: URL(string: url + path)!)
        r.httpMethod = method
        r.timeoutInterval = 10
        if auth { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        // The API takes writes in JSON only; a test of another type says so in `headers`.
        if method != "GET" { r.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        r.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: r)
        return Answer(status: (response as! HTTPURLResponse).statusCode, data: data)
    }

    /// `GET path` (as the test token) decoded as `type`; anything but 200 throws with the answer's body.
    package func get<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T {
        let answer = try await request("GET", path)
        guard answer.status == 200 else {
            throw UnexpectedStatus(description: "GET \(path) answered \(answer.status): \(answer.text)")
        }
        return try answer.decode(type)
    }

    /// `GET /api/v1/deployments`, newest first.
    package func deployments() async throws -> [DeploymentView] {
        try await get(DeploymentList.self, "/api/v1/deployments").deployments
    }

    package func deployment(_ id: String) async throws -> DeploymentView {
        try await get(DeploymentView.self, "/api/v1/deployments/\(id)")
    }

    /// The invocations of one stage of a deployment, oldest first.
    package func attempts(_ id: String, stage index: Int) async throws -> [InvocationView] {
        try await get(InvocationList.self, "/api/v1/deployments/\(id)/stages/\(index)/attempts").attempts
    }

    package func applications() async throws -> [ApplicationView] {
        try await get(ApplicationList.self, "/api/v1/applications").applications
    }

    /// The recent deliveries of a webhook binding, newest first.
    package func deliveries(_ binding: String = "demo", limit: Int? = nil) async throws -> [DeliveryView] {
        try await get(DeliveryList.self, "/api/v1/bindings/\(binding)/deliveries" + (limit.map { "?limit=\($0)" } ?? "")).deliveries
    }

    /// Waits for a deployment in a final state (or the given one) and returns it.
    package func waitForDeployment(_ id: String, status wanted: Set<String> = DeploymentView.finalStatuses,
                                   timeout: Double = 60) async throws -> DeploymentView {
        try await eventually("deployment \(id) to reach \(wanted)", timeout: timeout) {
            let d = try await self.deployment(id)
            return wanted.contains(d.status) ? d : nil
        }
    }

    /// Runs the real `gantry` CLI against this server.
    package func cli(_ args: [String], stdin: String? = nil) throws -> String {
        try sh([productsDirectory + "/gantry"] + args, env: ["GANTRY_SERVER": url, "GANTRY_TOKEN": token], stdin: stdin)
    }

    deinit { stop() }
}

/// The stage of `deployment` at `index` (nil when it has none).
package func stage(_ deployment: DeploymentView, _ index: Int) -> StageView? {
    deployment.stages.first { $0.index == index }
}

extension StageView {
    /// The stage's log lines as one text.
    package var logText: String { (logs ?? []).joined(separator: "\n") }
}

/// A timestamp of the API (RFC 3339, with or without fractional seconds).
package func parse(_ text: String?) -> Date? {
    guard let text else { return nil }
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.date(from: text) ?? ISO8601DateFormatter().date(from: text)
}

/// The usual test setup: a bare repository (with the signed post-receive hook unless `hook` is false), a
/// running server bound to it, and an empty `marks` directory scripts can leave evidence in.
package func launchServer(hook: Bool = true, functionsDir: ((String) throws -> String)? = nil, extraYAML: String = "",
                  serverYAML: String = "", repositoryYAML: String = "", environment: [String: String] = [:])
    async throws -> (git: GitFixture, server: ServerProcess, marks: String) {
    let root = try makeTempDir()
    let git = try GitFixture(root: root)
    let marks = root + "/marks"
    try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true,
                                            attributes: [.posixPermissions: 0o777])
    let server = try ServerProcess(root: root, git: git, functionsDir: try functionsDir?(root), extraYAML: extraYAML,
                                   serverYAML: serverYAML, repositoryYAML: repositoryYAML)
    server.environment = environment
    if hook { try git.installHook(url: server.url + "/hooks/demo") }
    try await server.start()
    return (git, server, marks)
}

extension ServerProcess {
    /// Waits for the deployment of `commit` to exist and returns its id.
    package func deploymentID(commit: String, timeout: Double = 30) async throws -> String {
        try await eventually("a deployment of \(commit.prefix(8))", timeout: timeout) {
            try await self.deployments().first { $0.commit == commit }?.id
        }
    }
}
