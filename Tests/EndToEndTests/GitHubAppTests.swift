import Foundation
import GantrySupport
@testable import Outbox
import SecretEncryption
import Server
import Store
import XCTest

/// A repository whose statuses go out as a GitHub App installation: the app's JWT is a real RS256 signature (checked
/// by the openssl command line), the installation token it buys is asked for once and kept until it nears expiry or
/// GitHub refuses it, and a refused app fails the row with the call named and the key nowhere.
final class GitHubAppTests: XCTestCase {
    static let keys = Result { try OpenSSLTool.rsaKeyPair() }

    func testTheAppsJWTIsAnRS256SignatureOpenSSLAccepts() throws {
        let keys = try Self.keys.get()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for (issuer, claim) in [("123456", "\"iss\":123456"), ("Iv1.5a7b9c", "\"iss\":\"Iv1.5a7b9c\"")] {
            let jwt = try GitHubAppJWT(issuer: issuer, key: SecretKey.privateKey(pem: keys.privatePEM)).token(now: now)
            XCTAssertTrue(OpenSSLTool.verifiesRS256(jwt, publicPEM: keys.publicPEM), jwt)
            let parts = jwt.split(separator: ".").map(String.init)
            XCTAssertFalse(jwt.contains("=") || jwt.contains("+") || jwt.contains("/"), "base64url without padding")
            XCTAssertEqual(OpenSSLTool.base64URLDecoded(parts[0]).map { String(decoding: $0, as: UTF8.self) },
                           #"{"alg":"RS256","typ":"JWT"}"#)
            XCTAssertEqual(OpenSSLTool.base64URLDecoded(parts[1]).map { String(decoding: $0, as: UTF8.self) },
                           #"{"exp":1800000540,"iat":1799999940,\#(claim)}"#)
        }
        let other = try OpenSSLTool.rsaKeyPair()
        let jwt = try GitHubAppJWT(issuer: "1", key: SecretKey.privateKey(pem: keys.privatePEM)).token(now: now)
        XCTAssertFalse(OpenSSLTool.verifiesRS256(jwt, publicPEM: other.publicPEM), "the check can fail")
    }

    func testStatusesShareOneInstallationTokenUntilItNearsExpiry() async throws {
        let keys = try Self.keys.get()
        let fake = try await FakeGitHost(token: "unused", app: .init(id: "4242", installationID: "77", publicPEM: keys.publicPEM))
        defer { fake.stop() }
        let (receivers, store) = try await appReceivers(fake, privatePEM: keys.privatePEM)
        // Five deliveries at once find no token: one request buys it for all.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 1...5 { group.addTask { try await Self.deliverStatus(receivers, store, commit: n) } }
            try await group.waitForAll()
        }
        try await Self.deliverStatus(receivers, store, commit: 6)
        XCTAssertEqual(fake.calls.filter { $0.path == "/app/installations/77/access_tokens" }.count, 1)
        let statuses = fake.calls.filter { $0.path.contains("/statuses/") }
        XCTAssertEqual(statuses.count, 6)
        XCTAssertTrue(statuses.allSatisfy(\.authorized), "every status carried the installation token")

        // Tokens that live less than the renewal margin are asked for again at each delivery.
        let shortLived = try await FakeGitHost(token: "unused", app: .init(id: "4242", installationID: "77",
                                                                          publicPEM: keys.publicPEM, lifetime: 120))
        defer { shortLived.stop() }
        let (renewing, renewingStore) = try await appReceivers(shortLived, privatePEM: keys.privatePEM)
        for n in 1...3 { try await Self.deliverStatus(renewing, renewingStore, commit: n) }
        XCTAssertEqual(shortLived.calls.filter { $0.path.hasSuffix("/access_tokens") }.count, 3)
        XCTAssertTrue(shortLived.calls.allSatisfy(\.authorized))
    }

    func testARevokedInstallationTokenIsRenewedOnTheNextAttempt() async throws {
        let keys = try Self.keys.get()
        let fake = try await FakeGitHost(token: "unused", app: .init(id: "4242", installationID: "77", publicPEM: keys.publicPEM))
        defer { fake.stop() }
        let (receivers, store) = try await appReceivers(fake, privatePEM: keys.privatePEM)
        try await Self.deliverStatus(receivers, store, commit: 1)
        fake.revokeInstallationTokens()
        do {
            try await Self.deliverStatus(receivers, store, commit: 2)
            XCTFail("a revoked token was accepted")
        } catch let failure as DeliveryFailure {
            XCTAssertFalse(failure.isPermanent, "\(failure)")
            XCTAssertTrue(failure.description.hasPrefix("HTTP 401 (POST /repos/example/deploy/statuses/"), failure.description)
        }
        try await Self.deliverStatus(receivers, store, commit: 2)
        XCTAssertEqual(fake.calls.filter { $0.path.hasSuffix("/access_tokens") }.count, 2)
        XCTAssertEqual(fake.calls.filter { $0.path.contains("/statuses/") }.map(\.authorized), [true, false, true])
    }

    func testARefusedAppFailsTheRowNamingTheCallAndNeverTheKey() async throws {
        let keys = try Self.keys.get(), stranger = try OpenSSLTool.rsaKeyPair()
        let fake = try await FakeGitHost(token: "unused", app: .init(id: "4242", installationID: "77", publicPEM: keys.publicPEM))
        defer { fake.stop() }
        let (receivers, store) = try await appReceivers(fake, privatePEM: stranger.privatePEM)
        do {
            try await Self.deliverStatus(receivers, store, commit: 1)
            XCTFail("a JWT signed by another key was accepted")
        } catch let failure as DeliveryFailure {
            XCTAssertEqual(failure.description, "HTTP 401 (the GitHub App's installation token, POST /app/installations/77/access_tokens)")
            XCTAssertTrue(failure.isPermanent)
        }
        XCTAssertFalse(fake.calls.contains { $0.path.contains("/statuses/") }, "no status without a token")
        let body = stranger.privatePEM.split(separator: "\n")[1]
        XCTAssertFalse(receivers.redaction.apply("key: \(stranger.privatePEM)").contains(body))
    }

    func testAppConfigMistakesAreRefusedAtStart() throws {
        let keys = try Self.keys.get()
        func refusal(_ edit: (inout CommitStatusConfig) -> Void) -> String {
            var status = CommitStatusConfig(app: GitHubAppConfig(id: "4242", installationID: "77", privateKey: "file:/k"))
            edit(&status)
            do {
                _ = try OutboxReceivers(notifications: nil, statuses: [
                    .init(id: "demo", remote: "https://github.com/example/deploy.git", status: status),
                ], externalURL: "https://gantry.example", resolve: { $0 == "file:/k" ? keys.privatePEM : "not a key" })
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal { _ in }, "accepted")
        XCTAssertEqual(refusal { $0.provider = "gitlab" }, "repositories[demo].status.app: GitHub Apps need provider github")
        XCTAssertEqual(refusal { $0.token = "env:T" }, "repositories[demo].status needs exactly one of token and app")
        XCTAssertEqual(refusal { $0.app = nil }, "repositories[demo].status needs exactly one of token and app")
        XCTAssertEqual(refusal { $0.app?.installationID = "../../x" },
                       "repositories[demo].status.app.installationID must be a number, not ../../x")
        XCTAssertEqual(refusal { $0.app?.id = "a\"b" }, "repositories[demo].status.app.id must be the app's ID or client ID, not a\"b")
        XCTAssertTrue(refusal { $0.app?.privateKey = "file:/other" }.hasPrefix("repositories[demo].status.app.privateKey: not a PEM private key"))
    }

    /// `gantry.yaml` as an organisation writes it: numbers for the IDs, the key a file hidden from functions.
    func testTheServerConfigReadsAnAppAndHidesItsKeyFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("app-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        server: {listen: "127.0.0.1:8080", dataDir: ./data}
        repositories:
          - id: demo
            remote: https://github.com/example/deploy.git
            status:
              app: {id: 4242, installationID: 77, privateKey: "file:/etc/gantry/app.pem"}
        """.write(toFile: dir + "/gantry.yaml", atomically: true, encoding: .utf8)
        let (config, _) = try ServerConfig.load(path: dir + "/gantry.yaml")
        let app = try XCTUnwrap(config.repositories?.first?.status?.app)
        XCTAssertEqual([app.id, app.installationID], ["4242", "77"])
        XCTAssertTrue(config.secretFiles.contains("/etc/gantry/app.pem"))
    }

    private func appReceivers(_ fake: FakeGitHost, privatePEM: String) async throws -> (OutboxReceivers, any OutboxStore) {
        var status = CommitStatusConfig(app: GitHubAppConfig(id: "4242", installationID: "77", privateKey: "file:/app.pem"))
        status.apiURL = fake.url
        let receivers = try OutboxReceivers(notifications: nil, statuses: [
            .init(id: "demo", remote: "https://github.com/example/deploy.git", status: status),
        ], externalURL: "https://gantry.example", resolve: { _ in privatePEM })
        return (receivers, try await StoreBackend.sqlite.open())
    }

    private static func deliverStatus(_ receivers: OutboxReceivers, _ store: any OutboxStore, commit n: Int) async throws {
        let target = OutboxTargets.statusTarget(repository: "demo")
        let event = DeploymentEvent(type: .started, at: Date(), deployment: .init(
            id: "d\(n)", application: "web", repository: "demo", commit: String(repeating: "\(n % 10)", count: 40),
            commitMessage: "", author: "", status: .running, statusReason: "", labels: [:]))
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let message = OutboxMessage(id: Int64(n), idempotencyKey: "k\(n)", target: target, deploymentID: "d\(n)", seq: 1,
                                    payload: String(decoding: try encoder.encode(event), as: UTF8.self), status: .pending,
                                    attempts: 0, nextAttemptAt: Date(), lastError: nil, createdAt: Date(), sentAt: nil)
        try await XCTUnwrap(receivers.receiver(target)).deliver(message, through: OutboundExchange(
            http: OutboundHTTP(timeout: 5), store: store, target: target, now: Date()))
    }
}
