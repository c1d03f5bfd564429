import Foundation
import GantrySupport
@testable import Outbox
import Store
import XCTest

/// Success rows of one app are separate outbox pairs, so a retried older success can reach GitHub after a newer
/// one. The newer deployment must stay the active one.
final class GitHubDeploymentOrderTests: XCTestCase {
    func testALateOlderSuccessDoesNotReplaceTheNewerOne() async throws {
        let fake = try await FakeGitHost(token: "ghs-order")
        defer { fake.stop() }
        let store = try await StoreBackend.sqlite.open()
        var status = CommitStatusConfig(token: "ref")
        status.apiURL = fake.url
        status.repository = "example/deploy"
        status.deployments = true
        let receivers = try OutboxReceivers(notifications: nil, statuses: [
            .init(id: "demo", remote: "https://github.com/example/deploy.git", status: status),
        ], externalURL: "https://gantry.example", resolve: { _ in fake.token })
        let target = OutboxTargets.deploymentTarget(repository: "demo")
        let receiver = try XCTUnwrap(receivers.receiver(target))
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601

        func succeed(_ id: String, commit: String, at seconds: Double) async throws {
            let event = DeploymentEvent(type: .succeeded, at: Date(timeIntervalSince1970: seconds), deployment: .init(
                id: id, application: "web", repository: "demo", commit: commit, commitMessage: "", author: "",
                status: .success, statusReason: "", labels: [:]))
            let message = OutboxMessage(id: 1, idempotencyKey: "k-\(id)", target: target, deploymentID: id, seq: 1,
                                        payload: String(decoding: try encoder.encode(event), as: UTF8.self),
                                        status: .pending, attempts: 0, nextAttemptAt: Date(), lastError: nil,
                                        createdAt: Date(), sentAt: nil)
            try await receiver.deliver(message, through: OutboundExchange(http: OutboundHTTP(timeout: 2), store: store,
                                                                          target: target, now: Date()))
        }
        let older = String(repeating: "a", count: 40), newer = String(repeating: "b", count: 40)
        try await succeed("d1", commit: older, at: 1_000)
        try await succeed("d3", commit: newer, at: 3_000)
        try await succeed("d2", commit: String(repeating: "c", count: 40), at: 2_000)   // retried, arrives last
        func states(_ sha: String) -> [String] { fake.deployments.first { $0.sha == sha }?.states ?? [] }
        XCTAssertEqual(states(older), ["success", "inactive"])
        XCTAssertEqual(states(newer), ["success"], "still the active one")
        XCTAssertEqual(states(String(repeating: "c", count: 40)), ["success", "inactive"])
    }
}
