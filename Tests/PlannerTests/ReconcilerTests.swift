import Foundation
import Logging
import Planner
import Store
import XCTest

/// The ls-remote safety net against a real bare repository: a head no trigger named is enqueued once as a
/// `.reconcile` trigger; a head already triggered (or whose webhook arrives within the grace) is left alone.
final class ReconcilerTests: XCTestCase {
    actor ReconcileStoreFake: ReconcileStore {
        var last: [String: String] = [:]
        var added: [NewTrigger] = []
        var queries = 0
        /// Set by a test to play a webhook landing while the reconciler waits.
        var deliverOnSecondQuery: String?

        func setLast(_ commit: String?) { last["demo refs/heads/main"] = commit }
        func deliverLate(_ commit: String) { deliverOnSecondQuery = commit }

        func lastTriggeredCommit(repository: String, ref: String) async throws -> String? {
            queries += 1
            if queries == 2, let late = deliverOnSecondQuery { last["\(repository) \(ref)"] = late }
            return last["\(repository) \(ref)"]
        }

        func addTrigger(_ trigger: NewTrigger) async throws -> Int64 {
            added.append(trigger)
            last["\(trigger.repository) \(trigger.ref)"] = trigger.commit
            return Int64(added.count)
        }
    }

    final class Catches: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [Reconciler.Catch] = []
        func add(_ c: Reconciler.Catch) { lock.lock(); list.append(c); lock.unlock() }
        var all: [Reconciler.Catch] { lock.lock(); defer { lock.unlock() }; return list }
    }

    func reconciler(_ store: ReconcileStoreFake, remote: String, interval: Double = 0.1,
                    catches: Catches = Catches()) -> (Reconciler, Reconciler.Target) {
        var logger = Logger(label: "reconcile-test")
        logger.logLevel = .critical
        let target = Reconciler.Target(repository: RepositoryConfig(id: "demo", remote: remote, branch: "main"), interval: interval)
        return (Reconciler(store: store, targets: [target], logger: logger, onCatch: { catches.add($0) }), target)
    }

    func testAMissedPushIsEnqueuedOnceAsAReconcileTrigger() async throws {
        let git = try GitFixture()
        let store = ReconcileStoreFake()
        let catches = Catches()
        let (reconciler, target) = reconciler(store, remote: git.remote, catches: catches)

        let none = try await reconciler.check(target)
        XCTAssertNil(none, "the branch does not exist yet")

        let first = try git.commitAndPush("first")
        await store.setLast(first)
        let inStep = try await reconciler.check(target)
        XCTAssertNil(inStep, "the webhook already delivered the head")

        let second = try git.commitAndPush("second")   // its webhook never arrives
        let caught = try await reconciler.check(target)
        XCTAssertEqual(caught?.commit, second)
        XCTAssertEqual(catches.all.map(\.commit), [second])
        let added = await store.added
        XCTAssertEqual(added, [NewTrigger(repository: "demo", ref: "refs/heads/main", commit: second, kind: .reconcile)])

        let again = try await reconciler.check(target)
        XCTAssertNil(again, "caught once, not at every interval")
        XCTAssertEqual(catches.all.count, 1)
    }

    func testAWebhookArrivingWithinTheGraceIsNotACatch() async throws {
        let git = try GitFixture()
        let store = ReconcileStoreFake()
        let (reconciler, target) = reconciler(store, remote: git.remote)
        let head = try git.commitAndPush("pushed just now")
        await store.deliverLate(head)
        let caught = try await reconciler.check(target)
        XCTAssertNil(caught)
        let added = await store.added
        XCTAssertTrue(added.isEmpty)
    }

    func testRunChecksOnItsIntervalAndStopsWhenCancelled() async throws {
        let git = try GitFixture()
        let head = try git.commitAndPush("missed")
        let store = ReconcileStoreFake()
        let catches = Catches()
        let (reconciler, _) = reconciler(store, remote: git.remote, interval: 0.2, catches: catches)
        let running = Task { await reconciler.run() }
        let deadline = Date().addingTimeInterval(10)
        while catches.all.isEmpty, Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        running.cancel()
        await running.value
        XCTAssertEqual(catches.all.map(\.commit), [head])

        let (disabled, _) = self.reconciler(store, remote: git.remote, interval: 0)
        await disabled.run()   // returns at once: nothing to reconcile
    }

    func testAnUnreachableRemoteFailsWithoutShowingItsCredentials() async throws {
        let store = ReconcileStoreFake()
        let (reconciler, target) = reconciler(store, remote: "https://deploy:s3cr3t-token@127.0.0.1:1/demo.git")
        do {
            _ = try await reconciler.check(target)
            XCTFail("an unreachable remote must fail")
        } catch {
            XCTAssertTrue("\(error)".contains("ls-remote"), "\(error)")
            XCTAssertFalse("\(error)".contains("s3cr3t"), "\(error)")
        }
    }
}
