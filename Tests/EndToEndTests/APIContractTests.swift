import Foundation
import GantrySupport
import XCTest

/// The outside contract of the HTTP surface: status codes, auth, and the webhook guards.
final class APIContractTests: XCTestCase {
    func testAuthSignatureAndBodyCap() async throws {
        let root = try makeTempDir()
        let git = try GitFixture(root: root)
        let server = try ServerProcess(root: root, git: git, extraYAML: "")
        // A small cap so the oversized case stays cheap.
        var yaml = try String(contentsOfFile: server.configPath, encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "  dataDir: ./data", with: "  dataDir: ./data\n  maxBodyBytes: 65536")
        try yaml.write(toFile: server.configPath, atomically: true, encoding: .utf8)
        try await server.start()

        let health = try await server.request("GET", "/healthz", auth: false)
        XCTAssertEqual(health.status, 200)
        let anonymous = try await server.request("GET", "/api/v1/deployments", auth: false)
        XCTAssertEqual(anonymous.status, 401)
        let wrong = try await server.request("GET", "/api/v1/deployments", headers: ["Authorization": "Bearer wrong"], auth: false)
        XCTAssertEqual(wrong.status, 401)
        let list = try await server.request("GET", "/api/v1/deployments")
        XCTAssertEqual(list.status, 200)
        XCTAssertNotNil(list.json["deployments"] as? [Any])
        let missing = try await server.request("GET", "/api/v1/deployments/nope")
        XCTAssertEqual(missing.status, 404)

        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")
        let delivery = signer.push(after: String(repeating: "a", count: 40), before: String(repeating: "0", count: 40))
        var sig = Array(signer.signature(delivery.body).utf8)
        sig[sig.count - 1] = sig[sig.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let bad = try await signer.send(delivery, signature: String(decoding: sig, as: UTF8.self))
        XCTAssertEqual(bad.status, 401)
        let unknown = try await WebhookSigner(secret: git.secret, url: server.url + "/hooks/nobody").send(delivery)
        XCTAssertEqual(unknown.status, 404)
        let ping = try await signer.send(signer.ping())
        XCTAssertEqual(ping.status, 200)
        XCTAssertEqual(ping.json["status"] as? String, "ignored")

        let big = WebhookSigner.Delivery(id: "big", event: "push", body: Data(repeating: 0x20, count: 200_000))
        let tooBig = try await signer.send(big)
        XCTAssertEqual(tooBig.status, 413)
        let stillHealthy = try await server.request("GET", "/healthz", auth: false)
        XCTAssertEqual(stillHealthy.status, 200)
        server.stop()
    }

    func testServerRefusesABindingWithoutSecret() throws {
        let root = try makeTempDir()
        try """
        server: {listen: "127.0.0.1:\(freePort())", dataDir: ./data}
        repositories:
          - id: demo
            remote: /nonexistent.git
            webhook: {binding: demo, provider: github, secrets: []}
        """.write(toFile: root + "/gantry.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try sh([productsDirectory + "/gantry", "serve", "--config", root + "/gantry.yaml"])) { error in
            XCTAssertTrue("\(error)".contains("no secret"), "\(error)")
        }
    }
}
