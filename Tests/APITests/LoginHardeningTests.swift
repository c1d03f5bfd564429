import Foundation
import GantrySupport
import Hummingbird
import HummingbirdTesting
@testable import Server
import Accounts
import SQLiteStore
import XCTest

/// The login form against guessing and misuse: unknown names cost what known ones cost, failed attempts are
/// limited per name and per client address, and the page a login returns to stays on this site.
final class LoginHardeningTests: XCTestCase {
    func assembled(users: [(name: String, password: String, role: String)]) async throws -> GantryServer.Assembled {
        let root = try makeTempDir()
        try ("server: {listen: \"127.0.0.1:0\", dataDir: ./data}\n" + usersYAML(users))
            .write(toFile: root + "/gantry.yaml", atomically: true, encoding: .utf8)
        return try await GantryServer(configPath: root + "/gantry.yaml").assemble()
    }

    func testUnknownNamesTakeAsLongAsKnownOnes() async throws {
        // A cost between the test configs' 4 and the real 12: long enough to measure, short enough to repeat.
        let cost: UInt8 = 8
        let store = try SQLiteStore(path: try makeTempDir() + "/gantry.sqlite")
        let accounts = Accounts(store: store, tokens: [], users: [
            .init(name: "known", role: .viewer, passwordHash: bcryptHash("right", cost: cost)),
        ])
        func seconds(_ name: String) async throws -> Double {
            let start = ContinuousClock.now
            let role = try await accounts.checkPassword(name: name, password: "wrong")
            XCTAssertNil(role)
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        // Medians of interleaved tries, so a slow moment of the machine hits both. A busy machine can still skew one
        // round, so up to three are made; before the decoy matched the cost, every round differed about fourfold.
        var rounds: [String] = []
        for _ in 0..<3 {
            var known: [Double] = [], unknown: [Double] = []
            for _ in 0..<7 {
                known.append(try await seconds("known"))
                unknown.append(try await seconds("nobody-\(UUID().uuidString.prefix(6))"))
            }
            let k = known.sorted()[3], u = unknown.sorted()[3]
            if abs(u - k) / k < 0.2 { return }
            rounds.append(String(format: "known %.1f ms, unknown %.1f ms", k * 1000, u * 1000))
        }
        XCTFail("unknown names' checks differ from known ones' by more than 20 %: \(rounds)")
    }

    func testDecoyCostFollowsTheConfiguredHashes() {
        XCTAssertEqual(Accounts.decoyCost([]), PasswordHashing.defaultCost)
        XCTAssertEqual(Accounts.decoyCost([bcryptHash("a", cost: 5), bcryptHash("b", cost: 5), bcryptHash("c", cost: 4)]), 5)
        XCTAssertEqual(Accounts.bcryptCost(Accounts.decoyHash(cost: 13)), 13)
    }

    func testSixthFailedLoginInAMinuteIsRefused() async throws {
        let parts = try await assembled(users: [("alice", "alice-password", "editor"), ("bob", "bob-password", "viewer")])
        try await parts.app.test(.router) { client in
            // Per name: five wrong passwords for alice from five addresses, then even the right one waits.
            for n in 1...5 {
                let answer = try await login(client, "alice", "guess-\(n)", from: "198.51.100.\(n)")
                XCTAssertEqual(answer.status, .seeOther)
                XCTAssertTrue(answer.headers[.location]?.hasPrefix("/login?error=") == true)
            }
            for password in ["guess-6", "alice-password"] {
                let refused = try await login(client, "alice", password, from: "198.51.100.6")
                XCTAssertEqual(refused.status, .tooManyRequests)
                let retry = try XCTUnwrap(refused.headers[.retryAfter].flatMap(Int.init))
                XCTAssertTrue((1...60).contains(retry), "\(retry)")
                XCTAssertNil(refused.headers[.setCookie])
            }
            // Bob is not alice: he still logs in.
            let bob = try await login(client, "bob", "bob-password", from: "198.51.100.7")
            XCTAssertEqual(bob.status, .seeOther)
            XCTAssertEqual(bob.headers[.location], "/applications")

            // Per address: five names tried from one address, then a sixth from there waits; another address does not.
            for n in 1...5 {
                let status = try await login(client, "nobody-\(n)", "x", from: "203.0.113.9").status
                XCTAssertEqual(status, .seeOther)
            }
            let sixth = try await login(client, "bob", "wrong", from: "203.0.113.9").status
            XCTAssertEqual(sixth, .tooManyRequests)
            let elsewhere = try await login(client, "bob", "bob-password", from: "203.0.113.10").status
            XCTAssertEqual(elsewhere, .seeOther)
        }
    }

    /// Through a real server: the client address is the connection's (curl binds its source to another loopback
    /// address), and a header claiming another one changes nothing.
    func testClientAddressIsTheConnectionsOwn() async throws {
        let server = try ServerProcess(root: try makeTempDir(), git: nil, extraYAML: usersYAML([("alice", "alice-password", "editor")]))
        try await server.start()
        defer { server.stop() }
        func login(_ name: String, from source: String, claiming: String) throws -> Int {
            let code = try sh(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface", source,
                               "-H", "Gantry-Client-Address: \(claiming)", "-b", "gantry_login=tok",
                               "--data", "_csrf=tok&username=\(name)&password=wrong", server.url + "/login"])
            return Int(code) ?? 0
        }
        for n in 1...5 { XCTAssertEqual(try login("nobody-\(n)", from: "127.0.0.2", claiming: "198.51.100.\(n)"), 303) }
        XCTAssertEqual(try login("nobody-6", from: "127.0.0.2", claiming: "198.51.100.6"), 429)
        XCTAssertEqual(try login("nobody-7", from: "127.0.0.3", claiming: "127.0.0.2"), 303)
    }

    func testThrottleForgetsOldAttemptsAndStaysBounded() {
        final class Clock: @unchecked Sendable { var now = 1000.0 }
        let clock = Clock()
        let throttle = LoginThrottle(limit: 2, window: 60, maxKeys: 100, now: { clock.now })
        let keys = LoginThrottle.keys(name: "alice", client: "192.0.2.1")
        XCTAssertNotEqual(throttle.admit(keys), .refused(retryAfter: 60))
        clock.now += 10
        _ = throttle.admit(keys)
        clock.now += 5
        XCTAssertEqual(throttle.admit(keys), .refused(retryAfter: 45), "the first attempt leaves the window 45 s later")
        clock.now += 46
        guard case .admitted(let ticket) = throttle.admit(keys) else { return XCTFail("the window moved on") }
        throttle.succeeded(keys, ticket: ticket)   // a right password is not counted
        guard case .admitted = throttle.admit(keys) else { return XCTFail("a success does not count") }
        // Many names from many addresses: the table stays within its bound.
        for n in 0..<1000 {
            _ = throttle.admit(LoginThrottle.keys(name: "n\(n)" + String(repeating: "x", count: 1000), client: "a\(n)"))
        }
        XCTAssertLessThanOrEqual(throttle.trackedKeys, 100)
    }

    func testLoginReturnsOnlyToAPlainPathOfThisSite() async throws {
        let parts = try await assembled(users: [("alice", "alice-password", "editor")])
        try await parts.app.test(.router) { client in
            // Browsers drop tabs and newlines inside URLs and read a backslash as a slash.
            let evil = ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\u{0}/evil.example", "//evil.example",
                        "/\\evil.example", "/\\/evil.example", "/x\\..\\..\\/evil.example", "\t//evil.example",
                        "https://evil.example", "evil.example", " /\t/evil.example", "/ /evil.example",
                        "/\u{3000}/evil.example", "/\u{7f}/evil.example", ""]
            for (n, next) in evil.enumerated() {
                let answer = try await login(client, "alice", "alice-password", next: next, from: "192.0.2.\(n)")
                XCTAssertEqual(answer.status, .seeOther)
                XCTAssertEqual(answer.headers[.location], "/applications", String(reflecting: next))
            }
            for next in ["/deployments/0123abcd", "/applications/web?notice=hi%20there", "/insights?period=week"] {
                let answer = try await login(client, "alice", "alice-password", next: next)
                XCTAssertEqual(answer.headers[.location], next)
            }
            // The login page carries only a safe `next` into its form.
            try await client.execute(uri: "/login?next=" + formEscape("/\t/evil.example"), method: .get) { response in
                XCTAssertFalse(String(buffer: response.body).contains("evil.example"))
            }
        }
    }
}

/// A login form post with its double-submit CSRF token, from `address` (what the server's channel handler would
/// set; in-process it is a plain header).
private func login(_ client: some TestClientProtocol, _ name: String, _ password: String, next: String = "/applications",
                   from address: String = "192.0.2.1") async throws -> TestResponse {
    var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "gantry_login=tok"]
    headers[ClientAddressTag.field] = address
    let form = ["_csrf": "tok", "username": name, "password": password, "next": next]
        .map { "\($0.key)=\(formEscape($0.value))" }.joined(separator: "&")
    return try await client.executeRequest(uri: "/login", method: .post, headers: headers, body: ByteBuffer(string: form))
}
