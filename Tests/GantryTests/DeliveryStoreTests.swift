import Foundation
@testable import SQLiteStore
import Store
import XCTest

/// The SQLite store's side of ingress: several triggers commit with their delivery (or not at all), dedupe by
/// delivery id holds for them, and the reads behind the deliveries API, the metrics and the reconcile.
final class DeliveryStoreTests: XCTestCase {
    func trigger(_ commit: String?, ref: String = "refs/heads/main", kind: TriggerKind = .webhook) -> NewTrigger {
        NewTrigger(repository: "demo", ref: ref, commit: commit, kind: kind)
    }

    func testSeveralTriggersCommitWithTheirDeliveryAndDedupeTogether() async throws {
        let store = try SQLiteStore(path: try makeTempDir() + "/gantry.db")
        let a = String(repeating: "a", count: 40), b = String(repeating: "b", count: 40)
        let delivery = NewDelivery(binding: "hook", deliveryID: "d-1", event: "repo:refs_changed", verdict: "accepted",
                                   reason: "two pushes", triggers: [trigger(a), trigger(b)])
        let first = try await store.ingest(delivery)
        guard case .recorded(let id?) = first else { return XCTFail("\(first)") }
        let again = try await store.ingest(delivery)
        XCTAssertEqual(again, .duplicate)

        let pending = try await store.pendingTriggers(limit: 10)
        XCTAssertEqual(pending.map(\.trigger.commit), [a, b])
        XCTAssertEqual(pending.first?.id, id)
        let depth = try await store.pendingTriggerCount()
        XCTAssertEqual(depth, 2)
        let last = try await store.lastTriggeredCommit(repository: "demo", ref: "refs/heads/main")
        XCTAssertEqual(last, b)
    }

    func testTheWALIsCopiedBackBesideTheWriterNotInsideACommit() async throws {
        let store = try SQLiteStore(path: try makeTempDir() + "/gantry.db")
        let autocheckpoint = try await store.writerAutocheckpointPages()
        XCTAssertEqual(autocheckpoint, 0, "no checkpoint inside the commits of the group commit")
        for batch in 0..<5 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<20 {
                    group.addTask {
                        _ = try await store.ingest(NewDelivery(binding: "hook", deliveryID: "\(batch)-\(n)", event: "push",
                                                               verdict: "ignored", reason: "test", trigger: nil))
                    }
                }
                try await group.waitForAll()
            }
        }
        let copied = try store.checkpointer.checkpointIfChanged()
        if let copied {   // nil: the background loop had copied everything already
            XCTAssertGreaterThan(copied.walFrames, 0)
            XCTAssertEqual(copied.copied, copied.walFrames, "a passive checkpoint with no reader copies every frame")
        }
        XCTAssertNil(try store.checkpointer.checkpointIfChanged(), "nothing new to copy")
        let recent = try await store.recentDeliveries(binding: "hook", limit: 1000)
        XCTAssertEqual(recent.count, 100)
    }

    func testALongLogStartsOverAfterItIsCopied() async throws {
        let store = try SQLiteStore(path: try makeTempDir() + "/gantry.db", options: .init(walRestartFrames: 8))
        for n in 0..<30 {
            _ = try await store.ingest(NewDelivery(binding: "hook", deliveryID: "d-\(n)", event: "push", verdict: "ignored",
                                                   reason: "test", trigger: nil))
        }
        _ = try store.checkpointer.checkpointIfChanged()
        _ = try await store.ingest(NewDelivery(binding: "hook", deliveryID: "after", event: "push", verdict: "ignored",
                                               reason: "test", trigger: nil))
        let frames = try XCTUnwrap(store.checkpointer.checkpointIfChanged()?.walFrames)
        XCTAssertLessThan(frames, 20, "after a RESTART checkpoint the next commit writes at the start of the log")
    }

    func testRecentDeliveriesNewestFirstAndLastTriggeredCommitSkipsHeadResolves() async throws {
        let store = try SQLiteStore(path: try makeTempDir() + "/gantry.db")
        let a = String(repeating: "a", count: 40)
        _ = try await store.ingest(NewDelivery(binding: "hook", deliveryID: "1", event: "ping", verdict: "ignored",
                                               reason: "ping", trigger: nil))
        _ = try await store.ingest(NewDelivery(binding: "other", deliveryID: "2", event: "push", verdict: "accepted",
                                               reason: "push", trigger: trigger(a)))
        _ = try await store.ingest(NewDelivery(binding: "hook", deliveryID: "3", event: "push", verdict: "accepted",
                                               reason: "push to main", trigger: trigger(a)))
        _ = try await store.addTrigger(trigger(nil, kind: .manual))   // "resolve the head": no commit to compare

        let recent = try await store.recentDeliveries(binding: "hook", limit: 10)
        XCTAssertEqual(recent.map(\.deliveryID), ["3", "1"])
        XCTAssertEqual(recent.map(\.verdict), ["accepted", "ignored"])
        XCTAssertNotNil(recent.first?.triggerID)
        XCTAssertNil(recent.last?.triggerID)
        let limited = try await store.recentDeliveries(binding: "hook", limit: 1)
        XCTAssertEqual(limited.map(\.deliveryID), ["3"])

        let last = try await store.lastTriggeredCommit(repository: "demo", ref: "refs/heads/main")
        XCTAssertEqual(last, a)
        let none = try await store.lastTriggeredCommit(repository: "demo", ref: "refs/heads/other")
        XCTAssertNil(none)
    }
}
