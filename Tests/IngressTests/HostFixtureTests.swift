import Digest
import Foundation
@testable import Ingress
import Store
import XCTest

/// Every host's published sample delivery, signed in the test with that host's scheme: it verifies, reads as
/// the right repository, ref, before and after, and a one-byte change to what the signature covers is a 401.
final class HostFixtureTests: XCTestCase {
    struct Case {
        var provider: WebhookProvider
        var host: String
        var file: String
        var branch: String
        var remote: String
        var ref: String
        var before: String
        var after: String
        /// nil: accepted; otherwise the ignore reason.
        var ignored: String? = nil
        var message: String = ""
        var author: String = ""
        var deliveryID: String? = nil
    }

    let zeros = String(repeating: "0", count: 40)

    var cases: [Case] {
        [
            Case(provider: .github, host: "github", file: "push-new-branch", branch: "master",
                 remote: "git@github.com:Codertocat/Hello-World.git", ref: "refs/heads/master", before: zeros,
                 after: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", message: "Initial commit", author: "Codertocat"),
            Case(provider: .github, host: "github", file: "push-tag-deleted", branch: "master",
                 remote: "https://github.com/Codertocat/Hello-World", ref: "refs/tags/simple-tag",
                 before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", after: zeros, ignored: "tag push (refs/tags/simple-tag)",
                 author: "Codertocat"),
            Case(provider: .gitlab, host: "gitlab", file: "push", branch: "master",
                 remote: "https://example.com/mike/diaspora.git", ref: "refs/heads/master",
                 before: "95790bf891e76fee5e1747ab589903a6a1f80f22", after: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
                 message: "fixed readme", author: "GitLab dev user"),
            Case(provider: .gitea, host: "gitea", file: "push", branch: "master",
                 remote: "ssh://git@localhost/example/example.git", ref: "refs/heads/master", before: zeros,
                 after: "67b56589a45103f891bdee7c0546e5d40bc02001", message: "example\n", author: "example"),
            Case(provider: .bitbucket, host: "bitbucket-cloud", file: "repo-push", branch: "name-of-branch",
                 remote: "git@bitbucket.org:team_name/repo_name.git", ref: "refs/heads/name-of-branch",
                 before: "1e65c05c1d5171631d92438a13901ca7dae9618c", after: "709d658dc5b6d6afcd46049c2f332ee3f515a67d",
                 message: "new commit message\n", author: "Emma"),
            Case(provider: .bitbucketServer, host: "bitbucket-server", file: "repo-refs-changed", branch: "feature/wip",
                 remote: "https://server.bitbucket.local/scm/~gopher/webhook-test.git", ref: "refs/heads/feature/wip",
                 before: "32a0b8a740c2963c6f56bd8baf3dc05683d299e0", after: zeros,
                 ignored: "branch deletion (refs/heads/feature/wip)", author: "Foo Bar"),
            Case(provider: .azureDevOps, host: "azure-devops", file: "git-push", branch: "main",
                 remote: "git@ssh.dev.azure.com:v3/fabrikam-fiber-inc/Fabrikam-Fiber-Git/Fabrikam-Fiber-Git",
                 ref: "refs/heads/main", before: "aad331d8d3b131fa9ae03cf5e53965b51942618a",
                 after: "33b55f7cb7e7e245323987634f960cf4a6e6bc74", message: "Fixed bug in web.config file",
                 author: "Jamal Hartnett", deliveryID: "03c164c2-8912-4d5e-8009-3707d5f83734"),
        ]
    }

    func testEveryFixtureVerifiesAndReadsAsTheRightPush() async throws {
        for c in cases {
            let label = "\(c.host)/\(c.file)"
            let body = try HostSigning.fixture(c.host, c.file)
            let headers = HostSigning.headers(c.provider, body: body, delivery: "delivery-\(c.file)")

            // What the host's receiver reads from it.
            let receiver = try XCTUnwrap(Ingress.receivers[c.provider])
            let read = receiver.read(WebhookRequest(headers: headers, body: body, now: Date()))
            guard case .pushes(let pushes, let urls) = read.interpretation, let push = pushes.first else {
                XCTFail("\(label): \(read.interpretation)"); continue
            }
            XCTAssertEqual(pushes.count, 1, label)
            XCTAssertEqual(push.event.ref, c.ref, label)
            XCTAssertEqual(push.event.before, c.before, label)
            XCTAssertEqual(push.event.after, c.after, label)
            XCTAssertEqual(push.event.commitMessage, c.message, label)
            XCTAssertEqual(push.event.author, c.author, label)
            XCTAssertEqual(push.event.provider, c.provider.rawValue, label)
            XCTAssertTrue(urls.contains { RepositoryLocation($0) == RepositoryLocation(c.remote) },
                          "\(label): \(urls) should name \(c.remote)")
            XCTAssertEqual(read.deliveryID, c.deliveryID ?? "delivery-\(c.file)", label)

            // Through ingress: verified, and accepted or ignored with the reason.
            let harness = try IngressHarness(bindings: [HostSigning.binding(c.provider, branch: c.branch, remote: c.remote)])
            let reply = await harness.ingress.handle(binding: "hook", headers: headers, body: body)
            let triggers = await harness.store.recordedTriggers().map(\.trigger)
            if let reason = c.ignored {
                XCTAssertEqual(reply.status, 200, label)
                XCTAssertEqual(reply.verdict, .ignored, label)
                XCTAssertEqual(reply.reason, reason, label)
                XCTAssertTrue(triggers.isEmpty, label)
            } else {
                XCTAssertEqual(reply.status, 202, "\(label): \(reply.reason)")
                XCTAssertEqual(triggers, [NewTrigger(repository: "demo", ref: c.ref, commit: c.after, kind: .webhook,
                                                     commitMessage: c.message, author: c.author)], label)
            }
        }
    }

    func testOneByteChangeToWhatIsSignedIsUnauthorized() async throws {
        for c in cases {
            let label = "\(c.host)/\(c.file)"
            let body = try HostSigning.fixture(c.host, c.file)
            var headers = HostSigning.headers(c.provider, body: body)
            var sent = oneByteChanged(body)
            switch c.provider {
            case .gitlab:
                // The token is not a signature over the body: the credential itself is what must be exact.
                headers["x-gitlab-token"] = oneCharacterChanged(HostSigning.secret)
                sent = body
            case .azureDevOps:
                headers["authorization"] = "Basic " + Data(oneCharacterChanged(HostSigning.basicAuth).utf8).base64EncodedString()
                sent = body
            default: break
            }
            let harness = try IngressHarness(bindings: [HostSigning.binding(c.provider, branch: c.branch, remote: c.remote)])
            let reply = await harness.ingress.handle(binding: "hook", headers: headers, body: sent)
            XCTAssertEqual(reply.status, 401, "\(label): \(reply.reason)")
            XCTAssertEqual(reply.verdict, .unauthorized, label)
            XCTAssertFalse(reply.reason.contains(HostSigning.secret), label)
            XCTAssertFalse(reply.reason.contains(HostSigning.hex(body)), label)
            let recorded = await harness.store.recordedDeliveries()
            XCTAssertTrue(recorded.isEmpty, "\(label): refused deliveries never reach the store")
            XCTAssertEqual(harness.ingress.recentRefusals(binding: "hook").map(\.verdict), [.unauthorized], label)
        }
    }

    func testGiteaSignsTheJSONPayloadAlsoWhenTheBodyIsAForm() async throws {
        let json = try HostSigning.fixture("gitea", "push")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = try XCTUnwrap(String(decoding: json, as: UTF8.self).addingPercentEncoding(withAllowedCharacters: allowed))
        let body = Array("payload=\(encoded)".utf8)
        var headers = HostSigning.headers(.gitea, body: json)       // signature over the JSON, not the form
        headers["content-type"] = "application/x-www-form-urlencoded"
        headers["x-gitea-signature"] = nil
        headers["x-forgejo-signature"] = HostSigning.hex(json)      // Forgejo's spelling of the same
        let harness = try IngressHarness(bindings: [HostSigning.binding(.gitea, branch: "master", remote: nil)])
        let reply = await harness.ingress.handle(binding: "hook", headers: headers, body: body)
        XCTAssertEqual(reply.status, 202, reply.reason)

        headers["x-forgejo-signature"] = HostSigning.hex(body)      // over the form bytes: not what Gitea signs
        let refused = await harness.ingress.handle(binding: "hook", headers: headers, body: body)
        XCTAssertEqual(refused.status, 401)
    }

    func testGitLabSigningTokenWithStandardWebhooksAndIdempotencyKey() async throws {
        let body = try HostSigning.fixture("gitlab", "push")
        let harness = try IngressHarness(bindings: [HostSigning.binding(.gitlab, branch: "master", remote: nil)])
        var headers = HostSigning.standardWebhooks(body: body, id: "wh-1")
        headers["x-gitlab-event"] = "Push Hook"
        headers["x-gitlab-event-uuid"] = "uuid-1"
        let signed = await harness.ingress.handle(binding: "hook", headers: headers, body: body)
        XCTAssertEqual(signed.status, 202, signed.reason)
        XCTAssertEqual(signed.deliveryID, "uuid-1", "without Idempotency-Key the event UUID names the delivery")

        headers["idempotency-key"] = "idem-1"
        let keyed = await harness.ingress.handle(binding: "hook", headers: headers, body: body)
        XCTAssertEqual(keyed.deliveryID, "idem-1")
        let again = await harness.ingress.handle(binding: "hook", headers: headers, body: body)
        XCTAssertEqual(again.verdict, .duplicate, "a retry keeps its Idempotency-Key")

        let tampered = await harness.ingress.handle(binding: "hook", headers: headers, body: oneByteChanged(body))
        XCTAssertEqual(tampered.status, 401)
        XCTAssertTrue(tampered.reason.contains("webhook-signature does not match"), tampered.reason)

        var unsigned = headers
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] { unsigned[name] = nil }
        let none = await harness.ingress.handle(binding: "hook", headers: unsigned, body: body)
        XCTAssertEqual(none.status, 401)
        XCTAssertTrue(none.reason.contains("X-Gitlab-Token header missing"), none.reason)
    }

    func testGitHubSHA1OnlyWhenTheBindingAllowsIt() async throws {
        let body = try HostSigning.fixture("github", "push-new-branch")
        var headers = HostSigning.headers(.github, body: body)
        headers["x-hub-signature-256"] = nil
        headers["x-hub-signature"] = "sha1=" + Digest.hex(Digest.hmacSHA1(key: Array(HostSigning.secret.utf8), body))
        var binding = HostSigning.binding(.github, branch: "master", remote: nil)
        let strict = try IngressHarness(bindings: [binding])
        let refused = await strict.ingress.handle(binding: "hook", headers: headers, body: body)
        XCTAssertEqual(refused.status, 401)
        XCTAssertTrue(refused.reason.contains("allowSHA1"), refused.reason)

        binding.allowSHA1 = true
        let lenient = try IngressHarness(bindings: [binding])
        let accepted = await lenient.ingress.handle(binding: "hook", headers: headers, body: body)
        XCTAssertEqual(accepted.status, 202, accepted.reason)
        let tampered = await lenient.ingress.handle(binding: "hook", headers: headers, body: oneByteChanged(body))
        XCTAssertEqual(tampered.status, 401)
    }

    func testAzureDevOpsNeedsBasicAuth() async throws {
        let body = try HostSigning.fixture("azure-devops", "git-push")
        let harness = try IngressHarness(bindings: [HostSigning.binding(.azureDevOps, branch: "main", remote: nil)])
        for (authorization, mention) in [(nil, "Authorization header missing"), ("Bearer x", "Basic <base64"),
                                         ("Basic !!!", "Basic <base64"),
                                         ("Basic " + Data("gantry:".utf8).base64EncodedString(), "do not match")] {
            var headers = ["content-type": "application/json"]
            headers["authorization"] = authorization
            let reply = await harness.ingress.handle(binding: "hook", headers: headers, body: body)
            XCTAssertEqual(reply.status, 401, "\(authorization ?? "none")")
            XCTAssertTrue(reply.reason.contains(mention), reply.reason)
        }
    }

    func testBitbucketCloudTagAndClosedBranchAreIgnored() async throws {
        let harness = try IngressHarness(bindings: [HostSigning.binding(.bitbucket, branch: "main", remote: nil)])
        let tag = Array(#"{"push": {"changes": [{"new": {"type": "tag", "name": "v1", "target": {"hash": "709d658dc5b6d6afcd46049c2f332ee3f515a67d"}}, "old": null}]}}"#.utf8)
        let closed = Array(#"{"push": {"changes": [{"new": null, "old": {"type": "branch", "name": "main", "target": {"hash": "709d658dc5b6d6afcd46049c2f332ee3f515a67d"}}, "closed": true}]}}"#.utf8)
        let tagReply = await harness.ingress.handle(binding: "hook", headers: HostSigning.headers(.bitbucket, body: tag), body: tag)
        XCTAssertEqual(tagReply.reason, "tag push (refs/tags/v1)")
        let closedReply = await harness.ingress.handle(binding: "hook", headers: HostSigning.headers(.bitbucket, body: closed),
                                                       body: closed)
        XCTAssertEqual(closedReply.reason, "branch deletion (refs/heads/main)")
    }
}
