import Digest
import Foundation
import Ingress
import Store
import XCTest

/// Builds signed GitHub deliveries and an ingress wired to an in-memory store, for the tests.
enum GitHubDeliveries {
    static let secret = "correct horse battery staple"

    /// The bytes of a fixture file in Fixtures/github (read from the source tree, so no resources are needed).
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/github/\(name).json")
        return Array(try Data(contentsOf: url))
    }

    static func signature(_ body: [UInt8], secret: String = secret) -> String {
        "sha256=" + Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), body))
    }

    static func headers(event: String?, body: [UInt8], secret: String = secret, delivery: String? = UUID().uuidString,
                        contentType: String = "application/json") -> [String: String] {
        var headers = ["content-type": contentType, "x-hub-signature-256": signature(body, secret: secret),
                       "user-agent": "GitHub-Hookshot/test"]
        if let event { headers["x-github-event"] = event }
        if let delivery { headers["x-github-delivery"] = delivery }
        return headers
    }

    static func binding(id: String = "demo-github", branch: String, secrets: [String] = [secret]) -> WebhookBinding {
        WebhookBinding(id: id, provider: .github, repository: "demo", branch: branch,
                       secrets: secrets.map { Array($0.utf8) })
    }
}

/// An ingress under test with its store and a record of `onTrigger` calls.
struct IngressHarness {
    let ingress: Ingress
    let store: InMemoryStore
    let wakeups: LockedCounter
    /// For each `onTrigger` call: how many triggers the store had committed at that moment.
    let committedAtWakeup: LockedValues

    init(bindings: [WebhookBinding], now: @escaping @Sendable () -> Date = { Date() }) throws {
        let store = InMemoryStore()
        let wakeups = LockedCounter()
        let committedAtWakeup = LockedValues()
        ingress = try Ingress(bindings: bindings, store: store, now: now) {
            committedAtWakeup.append(store.committedTriggers.value)
            wakeups.increment()
        }
        self.store = store; self.wakeups = wakeups; self.committedAtWakeup = committedAtWakeup
    }

    init(branch: String, secrets: [String] = [GitHubDeliveries.secret]) throws {
        try self.init(bindings: [GitHubDeliveries.binding(branch: branch, secrets: secrets)])
    }

    func send(_ body: [UInt8], event: String? = "push", delivery: String? = UUID().uuidString,
              secret: String = GitHubDeliveries.secret, binding: String = "demo-github") async -> IngressReply {
        await ingress.handle(binding: binding,
                             headers: GitHubDeliveries.headers(event: event, body: body, secret: secret, delivery: delivery),
                             body: body)
    }
}

final class LockedValues: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int] = []
    func append(_ value: Int) { lock.lock(); stored.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return stored }
}
