import Accounts
import Foundation
import FunctionKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real Prometheus (Debian's `prometheus`, installed by `make test-deps`) on a free loopback port, with a throwaway
/// TSDB, scraping one target every second, behind basic auth as a shared Prometheus would be.
package final class PrometheusServer: @unchecked Sendable {
    package let directory: String
    package let port = freePort()
    package let username = "gantry"
    package let password = "prom-\(UUID().uuidString.prefix(8))"
    /// The password as a file, for a `file:` secret reference in the server config.
    package var passwordFile: String { directory + "/password" }
    package var address: String { "http://127.0.0.1:\(port)" }
    package let process = Process()

    /// `job`: the scrape job's name, which Prometheus adds to every series as its `job` label.
    package init(scraping target: String, job: String = "web") throws {
        directory = try makeTempDir("prometheus")
        try password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        try """
            global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: \(job)
                static_configs: [{targets: ['\(target)']}]
            """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        // Cost 4: Prometheus checks the hash on every query, and the tests query every second.
        try "basic_auth_users:\n  \(username): '\(bcryptHash(password, cost: 4))'\n"
            .write(toFile: directory + "/web.yml", atomically: true, encoding: .utf8)
        let log = directory + "/prometheus.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["prometheus", "--config.file=\(directory)/prometheus.yml", "--web.config.file=\(directory)/web.yml",
                             "--web.listen-address=127.0.0.1:\(port)", "--storage.tsdb.path=\(directory)/data"]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle; process.standardError = handle
        do { try process.run() } catch {
            throw NSError(domain: "cannot start prometheus (apt-get install prometheus; `make test-deps` does): \(error)", code: 1)
        }
    }

    package var logText: String { (try? String(contentsOfFile: directory + "/prometheus.log", encoding: .utf8)) ?? "" }

    /// Waits until `query` has a result: Prometheus is up and has scraped the series.
    package func waitUntilQueryable(_ query: String, timeout: Double = 30) async throws {
        _ = try await eventually("Prometheus on \(address) to answer \(query)", timeout: timeout, interval: 0.2) { () -> Bool? in
            guard process.isRunning else { throw NSError(domain: "prometheus exited: \(logText)", code: 1) }
            return try await self.instant(query).isEmpty ? nil : true
        }
    }

    /// The values of an instant query now.
    package func instant(_ query: String) async throws -> [Double] {
        var url = URLComponents(string: address + "/api/v1/query")!
        url.queryItems = [.init(name: "query", value: query)]
        var request = URLRequest(url: url.url!)
        request.setValue("Basic " + Data("\(username):\(password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        // {"data": {"result": [{"metric": {...}, "value": [<time>, "<value>"]}]}}
        let result = try JSONValue.decode(String(decoding: data, as: UTF8.self))["data"]?["result"]?.array ?? []
        return result.compactMap { $0["value"]?.array?.last?.number }
    }

    package func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}
