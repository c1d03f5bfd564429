import Foundation
import GantryAPI
import GantrySupport
import KubeSupport
import XCTest

/// PipeCD's secrets in Git, end to end: `gantry encrypt` seals a value with the public key the server hands out, the
/// sealed text is pushed in the app's config, and the Secret the kubernetes function applies to the FAKE Kubernetes
/// API server carries the value, while Git and the API never show it.
final class EncryptedSecretsTests: XCTestCase {
    func testASealedSecretRoundTripsIntoTheAppliedManifest() async throws {
        let fake = try FakeKubeAPIServer()
        defer { fake.stop() }
        let keys = try makeTempDir("gantry-keys")
        _ = try sh(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", keys + "/key"])
        _ = try sh(["openssl", "pkey", "-in", keys + "/key", "-pubout", "-out", keys + "/key.pub"])
        let (git, server, _) = try await launchServer(extraYAML: """
            platforms:
              \(try fake.platformEntry())
            secretManagement:
              type: KEY_PAIR
              config: {privateKeyFile: \(keys)/key, publicKeyFile: \(keys)/key.pub}
            """)
        let publicKey = try await server.get(PublicKeyView.self, "/api/v1/encryption/public-key").publicKey
        XCTAssertEqual(publicKey, try String(contentsOfFile: keys + "/key.pub", encoding: .utf8))

        let sealed = try server.cli(["encrypt"], stdin: "hunter2\n").trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(sealed.contains("hunter2"))
        try git.write("web/app.pipecd.yaml", """
            apiVersion: pipecd.dev/v1beta1
            kind: KubernetesApp
            spec:
              name: web
              encryption:
                encryptedSecrets: {password: \(sealed)}
                decryptionTargets: [secret.yaml]
            """)
        try git.write("web/secret.yaml", """
            apiVersion: v1
            kind: Secret
            metadata: {name: web-secret}
            stringData: {password: "{{ .encryptedSecrets.password }}"}
            """)
        let id = try await server.deploymentID(commit: try git.commitAndPush("a sealed password").commit)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        let secret = try XCTUnwrap(try fake.object("secrets", "web-secret"))
        XCTAssertEqual(secret["stringData.password"]?.string, "hunter2")
        let everything = String(decoding: try await server.request("GET", "/api/v1/deployments/\(id)").data, as: UTF8.self)
        XCTAssertFalse(everything.contains("hunter2"), "the API shows no opened secret")
    }
}
