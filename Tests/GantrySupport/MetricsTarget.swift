import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The application the analysis tests look at (Tests/Support/metrics-target.py) on a loopback port: `/metrics` serves
/// what the test last put there, `/health` answers 200 for its first `healthy` requests and 500 after.
package final class MetricsTarget: @unchecked Sendable {
    package let process = Process()
    package let log: String
    private(set) var port = 0
    package var address: String { "127.0.0.1:\(port)" }

    package init(healthy: Int? = nil) async throws {
        log = try makeTempDir("metrics-target") + "/target.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script] + (healthy.map { ["--healthy", String($0)] } ?? [])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle; process.standardError = handle
        try process.run()
        port = try await eventually("the metrics target to listen", timeout: 20) { () -> Int? in
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard process.isRunning else { throw NSError(domain: "metrics-target exited: \(text)", code: 1) }
            return text.split(separator: "\n").first { $0.hasPrefix("listening on ") }.flatMap { Int($0.split(separator: " ")[2]) }
        }
    }

    /// Serves `exposition` (Prometheus' text format) from now on.
    package func serve(_ exposition: String) async throws {
        var request = URLRequest(url: URL(string: "http://\(address)/metrics")!)
        request.httpMethod = "PUT"
        request.httpBody = Data(exposition.utf8)
        _ = try await URLSession.shared.data(for: request)
    }

    /// How many `/health` requests it answered.
    package func healthRequests() async throws -> Int {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://\(address)/health-requests")!)
        return Int(String(decoding: data, as: UTF8.self)) ?? -1
    }

    package func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/metrics-target.py").path
    }
}
