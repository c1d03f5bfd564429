import BuiltProducts
import Foundation
import FunctionKit
import KubeSupport
import XCTest

/// The built `gantry-fn-kubernetes` run once with a crafted event, an environment as small as the function host
/// gives, in its own directory; returns its protocol messages and stage log.
struct KubernetesFunctionRun {
    let messages: [FunctionMessage]
    let log: String

    var result: FunctionResult? {
        messages.reversed().lazy.compactMap { if case .result(let r) = $0 { return r } else { return nil } }.first
    }
    var lastCheckpoint: JSONValue? {
        messages.reversed().lazy.compactMap { if case .checkpoint(let c, _) = $0 { return c } else { return nil } }.first
    }
    var outputs: [String: String] { messages.reduce(into: [:]) { if case .output(let o) = $1 { $0.merge(o) { $1 } } } }
    var succeeded: Bool { result?.status == .succeeded }

    static func run(_ event: FunctionEvent) throws -> KubernetesFunctionRun {
        let dir = NSTemporaryDirectory() + "fn-k8s-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let input = dir + "/event.json", out = dir + "/stdout", err = dir + "/stderr"
        try JSONEncoder().encode(event).write(to: URL(fileURLWithPath: input))
        for path in [out, err] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try BuiltProducts.executable("gantry-fn-kubernetes"))
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": dir, "LANG": "C.UTF-8", "TMPDIR": dir]
        // GANTRY_KUBECTL=/path/to/another/kubectl runs the suite with that kubectl (e.g. Debian's 1.20).
        if let kubectl = ProcessInfo.processInfo.environment["GANTRY_KUBECTL"] { p.environment?["GANTRY_KUBECTL"] = kubectl }
        p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try p.run()
        p.waitUntilExit()
        let lines = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        return KubernetesFunctionRun(messages: try lines.map(FunctionMessage.parse),
                                     log: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}

/// An app directory (one per commit) and events for it.
struct KubeApp {
    let root: String
    let name: String
    let platform: JSONValue

    init(name: String = "web-app", platform: JSONValue) throws {
        root = NSTemporaryDirectory() + "k8s-app-\(UUID().uuidString.prefix(8))"
        self.name = name; self.platform = platform
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// Writes the app's directory at `commit`: files by name.
    @discardableResult
    func commit(_ commit: String, _ files: [String: String]) throws -> String {
        let dir = root + "/" + commit
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (file, text) in files { try text.write(toFile: dir + "/" + file, atomically: true, encoding: .utf8) }
        return dir
    }

    func event(_ stage: String, with: JSONValue = .object([:]), commit: String, running: String? = nil,
               checkpoint: JSONValue? = nil, attempt: Int = 1, index: Int = 0) -> FunctionEvent {
        FunctionEvent(
            invocation: .init(id: "inv-\(UUID().uuidString.prefix(6))", key: "dep-\(index)", attempt: attempt,
                              deadline: RFC3339.format(Date().addingTimeInterval(300))),
            deployment: .init(id: "dep", application: name, commit: commit, runningCommit: running,
                              trigger: .init(kind: "webhook", commitMessage: "m", author: "a")),
            stage: .init(index: index, name: stage, with: with, rollback: stage == "ROLLBACK"),
            checkpoint: checkpoint,
            sources: .init(target: root + "/" + commit, running: running.map { root + "/" + $0 }),
            platform: platform)
    }

    func run(_ stage: String, with: JSONValue = .object([:]), commit: String, running: String? = nil,
             checkpoint: JSONValue? = nil, attempt: Int = 1) throws -> KubernetesFunctionRun {
        try KubernetesFunctionRun.run(event(stage, with: with, commit: commit, running: running, checkpoint: checkpoint,
                                            attempt: attempt))
    }
}


/// A FAKE Kubernetes API server and an app whose platform it is, fresh for each test.
class FakeAPIServerTestCase: XCTestCase {
    var fake: FakeKubeAPIServer!
    var app: KubeApp!

    override func setUpWithError() throws {
        fake = try FakeKubeAPIServer()
        app = try KubeApp(platform: try fake.platform())
    }

    override func tearDown() { fake?.stop() }
}
