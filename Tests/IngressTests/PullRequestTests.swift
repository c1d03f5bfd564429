import Foundation
@testable import Ingress
import Store
import XCTest

/// Pull and merge request deliveries (GitHub, Gitea, GitLab published samples, signed here): a request whose
/// head may have changed becomes one preview trigger for the base repository's head ref; closing, edits and
/// requests into another branch are ignored with the reason.
final class PullRequestTests: XCTestCase {
    struct Host {
        var provider: WebhookProvider
        var host: String
        var file: String
        var event: String
        var remote: String
    }

    let github = Host(provider: .github, host: "github", file: "pull-request-opened", event: "pull_request",
                      remote: "git@github.com:baxterthehacker/public-repo.git")
    let gitea = Host(provider: .gitea, host: "gitea", file: "pull-request-opened", event: "pull_request",
                     remote: "http://localhost:3000/example/example.git")
    let gitlab = Host(provider: .gitlab, host: "gitlab", file: "merge-request", event: "Merge Request Hook",
                      remote: "git@example.com:gitlabhq/gitlab-test.git")

    /// The fixture, with `edit` applied to its JSON when given.
    func body(_ host: Host, edit: ((inout [String: Any]) -> Void)? = nil) throws -> [UInt8] {
        let bytes = try HostSigning.fixture(host.host, host.file)
        guard let edit else { return bytes }
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        edit(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    func deliver(_ host: Host, _ body: [UInt8], branch: String = "master", remote: String? = nil)
        async throws -> (IngressReply, [NewTrigger]) {
        var headers = HostSigning.headers(host.provider, body: body)
        for name in ["x-github-event", "x-gitea-event", "x-gitlab-event"] where headers[name] != nil { headers[name] = host.event }
        let harness = try IngressHarness(bindings: [HostSigning.binding(host.provider, branch: branch,
                                                                        remote: remote ?? host.remote)])
        let reply = await harness.ingress.handle(binding: "hook", headers: headers, body: body)
        return (reply, await harness.store.recordedTriggers().map(\.trigger))
    }

    func testEachHostsOpenedRequestIsOnePreviewTriggerForItsHeadRef() async throws {
        let expected: [(Host, NewTrigger)] = [
            (github, NewTrigger(repository: "demo", ref: "refs/pull/1/head", commit: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                                kind: .pullRequest, commitMessage: "Update the README with new information", author: "baxterthehacker",
                                pullRequest: PullRequestRef(number: 1, baseRef: "refs/heads/master", headRef: "refs/pull/1/head",
                                                            title: "Update the README with new information",
                                                            url: "https://github.com/baxterthehacker/public-repo/pull/1"))),
            (gitea, NewTrigger(repository: "demo", ref: "refs/pull/2/head", commit: "48e773f892a831faa47c0a160d1b7f0cd369ae2a",
                               kind: .pullRequest, commitMessage: "update", author: "example2",
                               pullRequest: PullRequestRef(number: 2, baseRef: "refs/heads/master", headRef: "refs/pull/2/head",
                                                           title: "update", url: "http://localhost:3000/example/example/pulls/2"))),
            (gitlab, NewTrigger(repository: "demo", ref: "refs/merge-requests/1/head",
                                commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", kind: .pullRequest,
                                commitMessage: "MS-Viewport", author: "root",
                                pullRequest: PullRequestRef(number: 1, baseRef: "refs/heads/master",
                                                            headRef: "refs/merge-requests/1/head", title: "MS-Viewport",
                                                            url: "http://example.com/diaspora/merge_requests/1"))),
        ]
        for (host, trigger) in expected {
            let (reply, triggers) = try await deliver(host, try body(host))
            XCTAssertEqual(reply.status, 202, "\(host.host): \(reply.reason)")
            XCTAssertTrue(reply.reason.contains("previewed, not deployed"), reply.reason)
            XCTAssertEqual(triggers, [trigger], host.host)
        }
    }

    func testNewCommitsArePreviewedAndClosingOrEditingIsIgnored() async throws {
        for (host, action, previewed) in [
            (github, "synchronize", true), (github, "reopened", true), (github, "closed", false), (github, "edited", false),
            (github, "labeled", false), (gitea, "synchronized", true), (gitea, "closed", false),
        ] {
            let (reply, triggers) = try await deliver(host, try body(host) { $0["action"] = action })
            XCTAssertEqual(triggers.count, previewed ? 1 : 0, "\(host.host) \(action): \(reply.reason)")
            let number = host.provider == .github ? 1 : 2
            if !previewed { XCTAssertEqual(reply.reason, "pull request #\(number) \(action): its head did not change") }
        }
    }

    /// GitLab's `update` is also sent for title and label edits: only one with `oldrev` has new commits.
    func testGitLabUpdateIsPreviewedOnlyWithNewCommits() async throws {
        func attributes(_ change: @escaping (inout [String: Any]) -> Void) throws -> [UInt8] {
            try body(gitlab) { payload in
                var attributes = payload["object_attributes"] as? [String: Any] ?? [:]
                change(&attributes)
                payload["object_attributes"] = attributes
            }
        }
        var (reply, triggers) = try await deliver(gitlab, try attributes { $0["action"] = "update" })
        XCTAssertEqual(triggers.count, 0)
        XCTAssertEqual(reply.reason, "pull request #1 update: its head did not change")
        (reply, triggers) = try await deliver(gitlab, try attributes {
            $0["action"] = "update"; $0["oldrev"] = "95790bf891e76fee5e1747ab589903a6a1f80f22"
        })
        XCTAssertEqual(triggers.map(\.ref), ["refs/merge-requests/1/head"], reply.reason)
        (reply, triggers) = try await deliver(gitlab, try attributes { $0["action"] = "merge" })
        XCTAssertEqual(triggers.count, 0, reply.reason)
    }

    func testARequestIntoAnotherBranchOrFromAnotherRepositoryIsIgnored() async throws {
        var (reply, triggers) = try await deliver(github, try body(github), branch: "main")
        XCTAssertEqual(triggers.count, 0)
        XCTAssertEqual(reply.reason, "pull request #1 targets refs/heads/master, binding watches main")
        (reply, triggers) = try await deliver(github, try body(github), remote: "git@github.com:someone/else.git")
        XCTAssertEqual(triggers.count, 0)
        XCTAssertTrue(reply.reason.hasPrefix("repository github.com/baxterthehacker/public-repo is not bound here"), reply.reason)
    }

    func testMistypedFieldsAreIgnoredWithTheField() async throws {
        var (reply, _) = try await deliver(github, try body(github) { $0["number"] = "1" })
        XCTAssertEqual(reply.verdict, .ignored)
        XCTAssertEqual(reply.reason, "payload field \"number\" is missing or not a positive integer")
        (reply, _) = try await deliver(github, try body(github) { $0["number"] = 2.5 })
        XCTAssertEqual(reply.reason, "payload field \"number\" is missing or not a positive integer")
        (reply, _) = try await deliver(gitlab, try body(gitlab) { $0["object_attributes"] = "x" })
        XCTAssertEqual(reply.reason, "payload field \"object_attributes\" is missing or not an object")
    }
}
