import Foundation
import Planner
import SecretEncryption
import Store
import XCTest

/// Secrets sealed in Git (`spec.encryption`): sealed with the public key, opened only by the planner into a
/// deployment's own sources, and an app that needs a key the server lacks is refused rather than deployed with its
/// placeholders.
final class SecretDecryptionTests: XCTestCase {
    /// A fresh RSA key pair from the openssl command line, as an operator would make one.
    static func keyPair() throws -> (privatePEM: String, publicPEM: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for args in [["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", dir + "/key"],
                     ["pkey", "-in", dir + "/key", "-pubout", "-out", dir + "/key.pub"]] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = args
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "openssl \(args[0])")
        }
        return (try String(contentsOfFile: dir + "/key", encoding: .utf8), try String(contentsOfFile: dir + "/key.pub", encoding: .utf8))
    }

    func testSealedSecretsOpenOnlyWithTheirKeyAndRefuseAlteration() throws {
        let pair = try Self.keyPair(), other = try Self.keyPair()
        let privateKey = try SecretKey.privateKey(pem: pair.privatePEM)
        let publicKey = try SecretKey.publicKey(pem: pair.publicPEM)
        XCTAssertEqual(privateKey.publicPEM(), publicKey.publicPEM())

        for secret in ["p@ss w0rd", String(repeating: "x", count: 20_000), "é"] {
            let sealed = try SealedSecret.seal(Array(secret.utf8), for: publicKey)
            XCTAssertEqual(String(decoding: try SealedSecret.open(sealed, with: privateKey), as: UTF8.self), secret)
        }
        let sealed = try SealedSecret.seal(Array("s3cr3t".utf8), for: publicKey)
        XCTAssertNotEqual(sealed, try SealedSecret.seal(Array("s3cr3t".utf8), for: publicKey), "a fresh key and nonce each time")
        XCTAssertThrowsError(try SealedSecret.open(sealed, with: try SecretKey.privateKey(pem: other.privatePEM)))
        XCTAssertThrowsError(try SealedSecret.open(sealed, with: publicKey), "the public half cannot open")
        var bytes = [UInt8](Data(base64Encoded: sealed)!)
        bytes[bytes.count - 20] ^= 1
        XCTAssertThrowsError(try SealedSecret.open(Data(bytes).base64EncodedString(), with: privateKey)) { error in
            XCTAssertTrue("\(error)".contains("altered"), "\(error)")
        }
        XCTAssertThrowsError(try SecretKey.publicKey(pem: "not a key"))
    }

    static func app(_ sealed: String, targets: String = "[secret.yaml]") -> String {
        """
        apiVersion: gantry.dev/v1
        spec:
          name: web
          encryption:
            encryptedSecrets:
              password: \(sealed)
            decryptionTargets: \(targets)
          pipeline:
            stages: [{name: WAIT, with: {duration: 1s}}]
        """
    }

    func testThePlannerOpensSecretsIntoTheDeploymentsOwnSourcesOnly() async throws {
        let pair = try Self.keyPair()
        let sealed = try SealedSecret.seal(Array("hunter2".utf8), for: try SecretKey.publicKey(pem: pair.publicPEM))
        let repo = try GitFixture()
        try repo.write("web/app.gantry.yaml", Self.app(sealed))
        try repo.write("web/secret.yaml", "stringData:\n  password: \"{{ .encryptedSecrets.password }}\"\n  other: {{.encryptedSecrets.password}}\n")
        try repo.write("web/notes.txt", "{{ .encryptedSecrets.password }} stays here: not a target\n")
        let commit = try repo.commitAndPush("sealed")
        let store = InMemoryStore()
        let planner = Planner(store: store, repositories: [RepositoryConfig(id: "demo", remote: repo.remote, branch: "main")],
                              platforms: [], functions: try BuiltinFunctions.platformFunctions(),
                              secretKey: try SecretKey.privateKey(pem: pair.privatePEM), dataDir: repo.dataDir,
                              logger: .init(label: "secrets"))
        let id = try await store.addTrigger(pushTrigger(commit))
        _ = try await planner.planPending()
        let outcome = try await unwrapped(store.outcome(trigger: id))
        let d = try XCTUnwrap(outcome.deployments.first?.deployment)
        let target = Planner.sourcesDirectory(dataDir: repo.dataDir, deploymentID: d.id).target
        XCTAssertEqual(repo.readSource(target, "secret.yaml"), "stringData:\n  password: \"hunter2\"\n  other: hunter2\n")
        XCTAssertEqual(repo.readSource(target, "notes.txt"), "{{ .encryptedSecrets.password }} stays here: not a target\n")
        XCTAssertFalse(try repo.git(["show", "HEAD:web/secret.yaml"]).contains("hunter2"), "Git keeps the placeholder")
    }

    func testWithoutTheKeyOrWithABadTargetTheAppIsRefusedWithItsReason() async throws {
        let pair = try Self.keyPair()
        let sealed = try SealedSecret.seal(Array("hunter2".utf8), for: try SecretKey.publicKey(pem: pair.publicPEM))
        let key = try SecretKey.privateKey(pem: pair.privatePEM)
        for (targets, serverKey, expected) in [
            ("[secret.yaml]", nil as SecretKey?, "web/app.gantry.yaml: spec.encryption: this server has no secretManagement "
                + "key pair, so its encrypted secrets cannot be opened; refusing to deploy the placeholders"),
            ("[link.yaml]", key, "web/app.gantry.yaml: spec.encryption.decryptionTargets: link.yaml is not a regular file "
                + "in the app's directory"),
            ("[../other/x.yaml]", key, "web/app.gantry.yaml: spec.encryption.decryptionTargets: ../other/x.yaml is not a "
                + "path inside the app's directory"),
            ("[typo.yaml]", key, "web/app.gantry.yaml: typo.yaml uses {{ .encryptedSecrets.pasword }}, which "
                + "spec.encryption.encryptedSecrets does not have"),
        ] {
            let repo = try GitFixture()
            try repo.write("web/app.gantry.yaml", Self.app(sealed, targets: targets))
            try repo.write("web/secret.yaml", "password: {{ .encryptedSecrets.password }}\n")
            try repo.write("web/typo.yaml", "password: {{ .encryptedSecrets.pasword }}\n")
            try FileManager.default.createSymbolicLink(atPath: repo.work + "/web/link.yaml", withDestinationPath: "/etc/hostname")
            try repo.write("other/x.yaml", "x")
            let commit = try repo.commitAndPush("sealed")
            let store = InMemoryStore()
            let planner = Planner(store: store, repositories: [RepositoryConfig(id: "demo", remote: repo.remote, branch: "main")],
                                  platforms: [], functions: try BuiltinFunctions.platformFunctions(), secretKey: serverKey,
                                  dataDir: repo.dataDir, logger: .init(label: "secrets"))
            let id = try await store.addTrigger(pushTrigger(commit))
            _ = try await planner.planPending()
            let outcome = try await unwrapped(store.outcome(trigger: id))
            XCTAssertEqual(outcome.deployments.count, 0, targets)
            XCTAssertEqual(outcome.applications.first { $0.name == "web" }?.configError, expected)
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: repo.dataDir + "/deployments")) ?? []
            XCTAssertEqual(leftovers, [], "a refused deployment leaves no sources behind")
        }
    }
}
