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

    func testDuplicateBindingAndUnsupportedProviderRefuseToStart() {
        let binding = GitHubDeliveries.binding(branch: "main")
        XCTAssertThrowsError(try IngressHarness(bindings: [binding, binding])) { error in
            guard case IngressError.duplicateBinding("demo-github") = error else { return XCTFail("unexpected \(error)") }
        }
        var gitlab = GitHubDeliveries.binding(id: "demo-gitlab", branch: "main")
        gitlab.provider = .gitlab
        XCTAssertThrowsError(try IngressHarness(bindings: [gitlab])) { error in
            guard case IngressError.unsupportedProvider("demo-gitlab") = error else { return XCTFail("unexpected \(error)") }
            XCTAssertTrue("\(error)".contains("github"), "\(error)")
        }
    }

    func testUnknownBindingIsNotFoundAndTouchesNothing() async throws {
        let harness = try IngressHarness(branch: "master")
        let reply = await harness.send(try GitHubDeliveries.fixture("push-new-branch"), binding: "nope")
        XCTAssertEqual(reply.status, 404)
        XCTAssertEqual(reply.verdict, "not-found")
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
