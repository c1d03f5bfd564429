import Ingress
import XCTest

final class BindingTests: XCTestCase {
    func testBindingWithoutSecretRefusesToStart() {
        for secrets in [[], [""], ["good", ""]] {
            XCTAssertThrowsError(try IngressHarness(branch: "main", secrets: secrets), "\(secrets)") { error in
                guard case IngressError.bindingWithoutSecret("demo-github") = error else {
                    return XCTFail("unexpected \(error)")
                }
                XCTAssertTrue("\(error)".contains("demo-github"))
            }
        }
    }

    func testDuplicateBindingRefusesToStart() {
        let binding = GitHubDeliveries.binding(branch: "main")
        XCTAssertThrowsError(try IngressHarness(bindings: [binding, binding])) { error in
            guard case IngressError.duplicateBinding("demo-github") = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testEveryProviderInTheConfigHasAReceiver() throws {
        let providers: [WebhookProvider] = [.github, .gitlab, .gitea, .bitbucket, .bitbucketServer, .azureDevOps, .generic]
        let bindings = providers.map { provider in
            WebhookBinding(id: "hook-\(provider.rawValue)", provider: provider, repository: "demo", branch: "main",
                           secrets: [Array("user:password".utf8)])
        }
        XCTAssertNoThrow(try IngressHarness(bindings: bindings))
    }

    func testSecretsOfTheWrongShapeRefuseToStart() {
        let cases: [(WebhookProvider, String, String)] = [
            (.azureDevOps, "no-colon-here", "user:password"),
            (.gitlab, "whsec_!!not base64!!", "base64"),
            (.generic, "whsec_%%%", "base64"),
        ]
        for (provider, secret, mention) in cases {
            let binding = WebhookBinding(id: "shape", provider: provider, repository: "demo", branch: "main",
                                         secrets: [Array(secret.utf8)])
            XCTAssertThrowsError(try IngressHarness(bindings: [binding]), "\(provider)") { error in
                guard case IngressError.unusableSecret("shape", _) = error else { return XCTFail("unexpected \(error)") }
                XCTAssertTrue("\(error)".contains(mention), "\(error)")
                XCTAssertFalse("\(error)".contains(secret), "the message must not show the secret: \(error)")
            }
        }
    }

    func testUnknownBindingIsNotFoundAndTouchesNothing() async throws {
        let harness = try IngressHarness(branch: "master")
        let reply = await harness.send(try GitHubDeliveries.fixture("push-new-branch"), binding: "nope")
        XCTAssertEqual(reply.status, 404)
        XCTAssertEqual(reply.verdict, .notFound)
        XCTAssertNil(reply.deliveryID)
        let recorded = await harness.store.recordedDeliveries()
        XCTAssertTrue(recorded.isEmpty)
    }

    func testPrintingABindingNeverShowsItsSecrets() {
        let binding = GitHubDeliveries.binding(branch: "main", secrets: ["s3cr3t-value"])
        var dumped = ""
        dump(binding, to: &dumped)
        for text in ["\(binding)", String(reflecting: binding), dumped] {
            XCTAssertFalse(text.contains("s3cr3t-value"), text)
            XCTAssertFalse(text.contains("115, 51"), text)   // the secret's first bytes, "s3"
            XCTAssertTrue(text.contains("demo-github"), text)
        }
    }
}
