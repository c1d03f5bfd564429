import Digest
import Foundation
import GantrySupport
import Hummingbird
import HummingbirdTesting
import Ingress
@testable import Server
import XCTest

/// The HTTP routes driven in-process through HummingbirdTesting (no socket): fast checks of the contract
/// that complement the real-HTTP tests against a `gantry serve` process.
final class InProcessRouteTests: XCTestCase {
    func testWebhookRouteWithGitHubsPublishedVector() async throws {
        let root = try makeTempDir()
        // GitHub's documented example: this secret and body give exactly this signature.
        let secret = "It's a Secret to Everybody"
        try secret.write(toFile: root + "/secret", atomically: true, encoding: .utf8)
        try """
        server: {listen: "127.0.0.1:0", dataDir: ./data, tokens: [{name: t, secret: "file:\(root)/secret"}]}
        repositories:
          - {id: r, remote: /nonexistent.git, webhook: {binding: vec, provider: github, secrets: ["file:\(root)/secret"]}}
        """.write(toFile: root + "/gantry.yaml", atomically: true, encoding: .utf8)
        let parts = try await GantryServer(configPath: root + "/gantry.yaml").assemble()
        let body = ByteBuffer(string: "Hello, World!")
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        XCTAssertEqual(Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), Array("Hello, World!".utf8))),
                       String(good.dropFirst(7)))
        try await parts.app.test(.router) { client in
            var headers = HTTPFields()
            headers[HTTPFields.Element.Name("X-GitHub-Event")!] = "push"
            headers[HTTPFields.Element.Name("X-GitHub-Delivery")!] = "vector-1"
            headers[HTTPFields.Element.Name("X-Hub-Signature-256")!] = good
            // The signature verifies; the body is not a push payload, so it is ignored with 2xx, not refused.
            try await client.execute(uri: "/hooks/vec", method: .post, headers: headers, body: body) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertTrue(String(buffer: response.body).contains("ignored"), String(buffer: response.body))
            }
            // One bit flipped in the body: 401.
            headers[HTTPFields.Element.Name("X-GitHub-Delivery")!] = "vector-2"
            try await client.execute(uri: "/hooks/vec", method: .post, headers: headers,
                                     body: ByteBuffer(string: "Hello, World\""))  // '!' (0x21) -> '"' (0x22)
            { response in XCTAssertEqual(response.status, .unauthorized) }
            try await client.execute(uri: "/healthz", method: .get) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/api/v1/deployments", method: .get) { XCTAssertEqual($0.status, .unauthorized) }
            try await client.execute(uri: "/api/v1/deployments", method: .get,
                                     headers: [.authorization: "Bearer \(secret)"]) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(String(buffer: response.body), #"{"deployments":[]}"#)
            }
        }
    }
}
