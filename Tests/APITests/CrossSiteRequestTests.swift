import Foundation
import GantrySupport
import Hummingbird
import HummingbirdTesting
@testable import Server
import XCTest

/// What a web page on another site can make a visitor's browser do to the server: with no tokens and no users the
/// API acts as admin for whoever reaches it, so a page must neither post to it (a form or `text/plain` POST needs
/// no CORS preflight) nor read it after re-pointing its own DNS name at 127.0.0.1.
final class CrossSiteRequestTests: XCTestCase {
    /// An open server (no tokens, no users) assembled in-process.
    func openServer(_ serverYAML: String = "") async throws -> GantryServer.Assembled {
        let root = try makeTempDir()
        try """
        server: {listen: "127.0.0.1:8080", dataDir: ./data\(serverYAML)}
        """.write(toFile: root + "/gantry.yaml", atomically: true, encoding: .utf8)
        return try await GantryServer(configPath: root + "/gantry.yaml").assemble()
    }

    func testAPIWritesNeedJSONContentType() async throws {
        let parts = try await openServer()
        try await parts.app.test(.router) { client in
            let approve = "/api/v1/deployments/0123456789abcdef/approve"
            // What a cross-site form or fetch without preflight can send: refused before anything happens.
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", nil] {
                var headers = HTTPFields()
                if let type { headers[.contentType] = type }
                try await client.execute(uri: approve, method: .post, headers: headers, body: ByteBuffer(string: "{}")) { response in
                    XCTAssertEqual(response.status, .unsupportedMediaType, "\(type ?? "no type")")
                    XCTAssertTrue(String(buffer: response.body).contains("Content-Type: application/json"), String(buffer: response.body))
                }
            }
            // JSON goes through to the handler (no such deployment here).
            for type in ["application/json", "Application/JSON; charset=utf-8"] {
                try await client.execute(uri: approve, method: .post, headers: [.contentType: type],
                                         body: ByteBuffer(string: "{}")) { XCTAssertEqual($0.status, .notFound, type) }
            }
            // Not callbacks: the token in their URL is the credential no other page can know, and the outside
            // systems that call them (a `curl -d` from CI sends a form type) are not browsers.
            let callback = "/api/v1/callbacks/" + String(repeating: "0", count: 64)
            let body = ByteBuffer(string: #"{"status":"succeeded"}"#)
            for type in ["text/plain", "application/x-www-form-urlencoded", "application/json"] {
                try await client.execute(uri: callback, method: .post, headers: [.contentType: type, .origin: "https://ci.example"],
                                         body: body) { XCTAssertEqual($0.status, .notFound, type) }
            }
            // Reads need no type.
            try await client.execute(uri: "/api/v1/deployments", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }

    func testForeignOriginsAreRefusedExceptOnWebhooks() async throws {
        let parts = try await openServer(", externalURL: https://gantry.example.com, allowedHosts: [gantry.internal]")
        try await parts.app.test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            for origin in ["http://attacker.example", "null", "http://127.0.0.1:9999", "https://127.0.0.1:8080",
                           "http://gantry.example.com", "http://localhost.attacker.example:8080"] {
                var headers = json
                headers[.origin] = origin
                try await client.execute(uri: "/api/v1/applications/hello/sync", method: .post, headers: headers,
                                         body: ByteBuffer(string: "{}")) { response in
                    XCTAssertEqual(response.status, .forbidden, origin)
                    XCTAssertTrue(String(buffer: response.body).contains("cross-origin"), String(buffer: response.body))
                }
                try await client.execute(uri: "/api/v1/deployments", method: .get, headers: [.origin: origin]) {
                    XCTAssertEqual($0.status, .forbidden, origin)
                }
                // The web UI's forms: the login form as any other.
                try await client.execute(uri: "/login", method: .post,
                                         headers: [.origin: origin, .contentType: "application/x-www-form-urlencoded"],
                                         body: ByteBuffer(string: "username=a&password=b")) { response in
                    XCTAssertEqual(response.status, .forbidden, origin)
                    XCTAssertTrue(String(buffer: response.body).contains("cross-origin"), String(buffer: response.body))
                }
                // Git hosts post webhooks from their own sites.
                try await client.execute(uri: "/hooks/nobody", method: .post, headers: [.origin: origin],
                                         body: ByteBuffer(string: "{}")) { XCTAssertEqual($0.status, .notFound, origin) }
            }
            // The server's own origins: the listen address, loopback names on its port, externalURL, allowed hosts.
            for origin in ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "https://gantry.example.com",
                           "https://gantry.example.com:443", "http://gantry.internal:8080", "https://gantry.internal"] {
                var headers = json
                headers[.origin] = origin
                try await client.execute(uri: "/api/v1/applications/hello/sync", method: .post, headers: headers,
                                         body: ByteBuffer(string: "{}")) { XCTAssertEqual($0.status, .notFound, origin) }
            }
        }
    }

    /// DNS rebinding: a page whose name now points at 127.0.0.1 sends its own name as Host. A real server, so the
    /// Host header goes through HTTP decoding as a browser's would.
    func testOpenServerAnswersOnlyItsOwnHostNames() async throws {
        let root = try makeTempDir()
        let server = try ServerProcess(root: root, git: nil)
        // No tokens, no users: open mode.
        try "server: {listen: 127.0.0.1:\(server.port), dataDir: ./data, allowedHosts: [gantry.internal, 'builder:8080']}\n"
            .write(toFile: server.configPath, atomically: true, encoding: .utf8)
        try await server.start()
        defer { server.stop() }

        func get(host: String) -> RawConnection.Answer {
            guard let connection = try? RawConnection(port: server.port) else { return RawConnection.Answer(status: nil, headers: [:], body: [], closed: true) }
            connection.send("GET /api/v1/deployments HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
            return connection.readAnswer(timeout: 5)
        }
        for host in ["attacker.example:\(server.port)", "attacker.example", "127.0.0.1.attacker.example:\(server.port)",
                     "localhost.attacker.example", "builder:9090", "gantry.internal.attacker.example", "[::2]:\(server.port)"] {
            let answer = get(host: host)
            XCTAssertEqual(answer.status, 421, host)
            XCTAssertTrue(String(decoding: answer.body, as: UTF8.self).contains("allowedHosts"), host)
        }
        for host in ["127.0.0.1:\(server.port)", "localhost:\(server.port)", "LOCALHOST", "127.0.0.2:\(server.port)",
                     "[::1]:\(server.port)", "gantry.internal:\(server.port)", "gantry.internal", "builder:8080"] {
            XCTAssertEqual(get(host: host).status, 200, host)
        }
        // Webhooks are not the API: a Git host's delivery is judged by its signature (none is bound here).
        let hook = try RawConnection(port: server.port)
        hook.send("POST /hooks/nobody HTTP/1.1\r\nHost: attacker.example\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertEqual(hook.readAnswer(timeout: 5).status, 404)
    }

    func testHostNamesAreCheckedOnlyInOpenMode() {
        var server = ServerConfig.Server()
        server.listen = "127.0.0.1:8080"
        let closed = OriginPolicy(server: server, open: false)
        XCTAssertNil(closed.refusal(method: .get, path: "/api/v1/deployments", authority: "gantry.example.com", origin: nil,
                                    contentType: nil), "with tokens, a reverse proxy's name is fine")
        let open = OriginPolicy(server: server, open: true)
        XCTAssertEqual(open.refusal(method: .get, path: "/api/v1/deployments", authority: "gantry.example.com", origin: nil,
                                    contentType: nil)?.status, .misdirectedRequest)
        XCTAssertEqual(open.refusal(method: .get, path: "/", authority: "127.0.0.1:8080", extraHost: true, origin: nil,
                                    contentType: nil)?.status, .badRequest, "a second Host header")
    }
}
