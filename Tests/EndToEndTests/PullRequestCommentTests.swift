import Foundation
import GantrySupport
import Logging
@testable import Outbox
import Store
import XCTest

/// Plan previews reach a pull request as one comment, through the real outbox sender and store, on GitHub,
/// GitLab and Gitea (a fake of each API that checks its auth header): later previews edit it, a deleted comment
/// is posted again, and a store that lost the comment's id finds it by its marker instead of adding another.
final class PullRequestCommentTests: XCTestCase {
    struct Host { var provider: String; var prefix: String; var repository: String }
    static let hosts = [Host(provider: "github", prefix: "", repository: "example/deploy"),
                        Host(provider: "gitlab", prefix: "/api/v4", repository: "group/sub/deploy"),
                        Host(provider: "gitea", prefix: "/api/v1", repository: "team/deploy")]

    /// A store and a running sender whose only receivers are `host`'s for repository `demo`.
    func sender(_ fake: FakeGitHost, _ host: Host) async throws -> (store: any Store, task: Task<Void, Never>) {
        let store = try await StoreBackend.sqlite.open()
        var status = CommitStatusConfig(token: "token-ref")
        status.provider = host.provider
        status.apiURL = fake.url + host.prefix
        status.repository = host.repository
        let receivers = try OutboxReceivers(notifications: nil, statuses: [
            .init(id: "demo", remote: "https://git.example/\(host.repository).git", status: status),
        ], externalURL: "https://gantry.example", resolve: { _ in fake.token })
        let wakeup = Wakeup()
        let sender = OutboxSender(store: store, receivers: receivers, policy: OutboxRetry(maxAttempts: 5, initialInterval: 0.05),
                                  timeout: 2, sweep: 0.5, wakeup: wakeup, logger: Logger(label: "test"))
        store.outbox.configure(router: receivers.router, onEnqueue: { wakeup.signal() })
        return (store, Task { await sender.run() })
    }

    var trigger: Int64 = 0
    func preview(_ store: any Store, number: Int, _ markdown: String) async throws {
        trigger += 1
        try await store.commitPlan(PlanOutcome(triggerID: trigger, applications: [], deployments: [], note: "",
                                               previewComment: PreviewComment(at: Date(), repository: "demo", pullRequest: number,
                                                                              head: "abc", markdown: markdown)))
    }

    func sent(_ store: any Store, _ count: Int) async throws {
        _ = try await eventually("\(count) rows sent") {
            try await store.outboxMessages(status: .sent, limit: 100).count == count ? true : nil
        }
    }

    func testOneCommentPerPullRequestEditedInPlaceOnEachHost() async throws {
        for host in Self.hosts {
            let fake = try await FakeGitHost(token: "tok-\(host.provider)")
            defer { fake.stop() }
            let (store, task) = try await sender(fake, host)
            defer { task.cancel() }
            let marker = "<!-- gantry:plan-preview demo -->"

            try await preview(store, number: 7, "first preview")
            try await sent(store, 1)
            try await preview(store, number: 7, "second preview")
            try await preview(store, number: 8, "other pull request")
            try await sent(store, 3)
            let seven = fake.comments(host.provider, host.repository, 7)
            XCTAssertEqual(seven.map(\.body), [marker + "\nsecond preview"], host.provider)
            XCTAssertEqual(fake.comments(host.provider, host.repository, 8).count, 1, host.provider)

            // Deleted on the host: the next preview posts it again.
            fake.deleteComments(host.provider, host.repository, 7)
            try await preview(store, number: 7, "third preview")
            try await sent(store, 4)
            XCTAssertEqual(fake.comments(host.provider, host.repository, 7).map(\.body), [marker + "\nthird preview"], host.provider)

            // A store that never saw the comment (its id lost) finds it by the marker and edits it.
            task.cancel()
            let (fresh, freshTask) = try await sender(fake, host)
            defer { freshTask.cancel() }
            try await preview(fresh, number: 7, "fourth preview")
            try await sent(fresh, 1)
            XCTAssertEqual(fake.comments(host.provider, host.repository, 7).map(\.body), [marker + "\nfourth preview"], host.provider)
            XCTAssertTrue(fake.calls.allSatisfy(\.authorized), host.provider)
            let posts = fake.calls.filter { $0.method == "POST" }.count
            XCTAssertEqual(posts, 3, "\(host.provider): 7 posted twice (once after the delete), 8 once")
        }
    }

    /// A host refusing the token dead-letters the row at once, with the call in the error and no secret.
    func testARefusedTokenIsDeadLetteredWithoutTheSecret() async throws {
        let fake = try await FakeGitHost(token: "the-right-token")
        defer { fake.stop() }
        let store = try await StoreBackend.sqlite.open()
        var status = CommitStatusConfig(token: "ref")
        status.apiURL = fake.url
        status.repository = "example/deploy"
        let receivers = try OutboxReceivers(notifications: nil, statuses: [.init(id: "demo", remote: "x", status: status)],
                                            externalURL: "https://gantry.example", resolve: { _ in "a-wrong-token" })
        let wakeup = Wakeup()
        let sender = OutboxSender(store: store, receivers: receivers, policy: OutboxRetry(maxAttempts: 5, initialInterval: 0.05),
                                  timeout: 2, sweep: 0.5, wakeup: wakeup, logger: Logger(label: "test"))
        store.outbox.configure(router: receivers.router, onEnqueue: { wakeup.signal() })
        let task = Task { await sender.run() }
        defer { task.cancel() }
        try await preview(store, number: 3, "x")
        let failed = try await eventually("the row to be dead-lettered") {
            try await store.outboxMessages(status: .failed, limit: 10).first
        }
        XCTAssertEqual(failed.attempts, 1)
        XCTAssertEqual(failed.lastError, "attempt 1: HTTP 401 (GET /repos/example/deploy/issues/3/comments)")
        XCTAssertFalse(failed.lastError?.contains("a-wrong-token") == true)
    }
}
