import Foundation
import KubeSupport
import Planner
import Store
import XCTest

/// A push is hostile input: whatever it holds costs a bounded amount, becomes the affected app's config error,
/// and never holds back the other apps of the commit or the pushes after it.
final class HostileRepositoryTests: XCTestCase {
    func testANestedGitFolderMakesOnlyThatAppInvalidAndTheNextPushDeploysIt() async throws {
        let repo = try GitFixture()
        try repo.write("apps/bad/app.gantry.yaml", scriptRunApp(name: "bad"))
        try repo.write("apps/good/app.gantry.yaml", scriptRunApp(name: "good"))
        try repo.git(["add", "-A"])
        try repo.git(["commit", "--quiet", "-m", "two apps"])
        let nested = try Self.bash(HostileRepository.nestedGitFolderScript(directory: "apps/bad"), in: repo.work)
        try repo.git(["reset", "--quiet", "--soft", nested])
        try repo.git(["push", "--quiet", "origin", "HEAD:refs/heads/main"])
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)

        let first = try await store.addTrigger(pushTrigger(nested))
        let created = try await planner.planPending()

        XCTAssertEqual(created, 1, "the good app deploys")
        let outcome = try await unwrapped(store.outcome(trigger: first))
        XCTAssertEqual(outcome.deployments.map(\.deployment.application), ["good"])
        let bad = await store.apps["bad"]
        let error = bad?.configError ?? ""
        XCTAssertTrue(error.contains("apps/bad/app.gantry.yaml: cannot export apps/bad") && error.contains(".git/config"), error)
        XCTAssertTrue(outcome.note.contains("cannot export apps/bad"), outcome.note)
        let left = try FileManager.default.contentsOfDirectory(atPath: repo.dataDir + "/deployments")
        XCTAssertEqual(left, outcome.deployments.map(\.deployment.id), "no folder left by the failed export")

        // The push that removes the folder deploys the app and clears its error.
        try repo.write("apps/bad/fixed.txt", "no nested repository any more\n")
        let fixed = try repo.commitAndPush("remove the nested .git")
        let second = try await store.addTrigger(pushTrigger(fixed))
        let createdAfterFix = try await planner.planPending()
        XCTAssertEqual(createdAfterFix, 1)
        let redeployed = try await unwrapped(store.outcome(trigger: second))
        XCTAssertEqual(redeployed.deployments.map(\.deployment.application), ["bad"])
        let cleared = await store.apps["bad"]
        XCTAssertNil(cleared?.configError)
    }

    func testAnAliasBombIsThatAppsConfigErrorAndTheOtherAppDeploys() async throws {
        let repo = try GitFixture()
        try repo.write("apps/bomb/app.gantry.yaml", HostileRepository.aliasBombApp(name: "bomb"))
        try repo.write("apps/good/app.gantry.yaml", scriptRunApp(name: "good"))
        let commit = try repo.commitAndPush("a bomb and a good app")
        let store = InMemoryStore()
        let before = Self.peakRSSKiB()

        let trigger = try await store.addTrigger(pushTrigger(commit))
        let created = try await repo.planner(store: store).planPending()
        XCTAssertEqual(created, 1)

        let outcome = try await unwrapped(store.outcome(trigger: trigger))
        XCTAssertEqual(outcome.deployments.map(\.deployment.application), ["good"])
        let error = await store.apps["bomb"]?.configError ?? ""
        XCTAssertTrue(error.hasPrefix("apps/bomb/app.gantry.yaml line "), error)
        XCTAssertTrue(error.contains("more than 100000 YAML nodes once aliases are expanded"), error)
        XCTAssertLessThan(Self.peakRSSKiB() - before, 64 << 10, "reading the bomb must not cost memory")
    }

    static func bash(_ script: String, in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw GitFixture.CommandFailed(description: "bash: \(script)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func peakRSSKiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }
}

/// A Git host that retries and floods: a storm of deliveries to one branch is one plan of its head.
final class DeliveryStormTests: XCTestCase {
    func testAStormOfDeliveriesToOneBranchIsPlannedOncePerBatch() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.gantry.yaml", scriptRunApp(name: "web"))
        let head = try repo.commitAndPush("one")
        let store = InMemoryStore()
        var ids: [Int64] = []
        for _ in 0..<1_500 { ids.append(try await store.addTrigger(pushTrigger(head))) }
        let manual = try await store.addTrigger(manualTrigger("web", strategy: .auto))

        let created = try await repo.planner(store: store).planPending()

        XCTAssertEqual(created, 2, "the head once, and the manual sync")
        let pending = await store.pendingIDs
        XCTAssertEqual(pending, [])
        let notes = await ids.asyncMap { await store.outcome(trigger: $0)?.note ?? "" }
        let planned = notes.enumerated().filter { !$0.element.hasPrefix("coalesced into trigger") }
        XCTAssertEqual(planned.count, 2, "one plan per batch of \(1_000): \(planned.map(\.offset))")
        let manualOutcome = await store.outcome(trigger: manual)
        XCTAssertEqual(manualOutcome?.deployments.count, 1)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        for element in self { out.append(try await transform(element)) }
        return out
    }
}

final class LargeConfigsTests: XCTestCase {
    /// Configs are read a bounded number of bytes at a time: more than one chunk's worth still all deploy.
    func testConfigsBeyondOneReadChunkAreAllRead() async throws {
        let repo = try GitFixture()
        let padding = String(repeating: "# padding to make the file large, ignored by YAML\n", count: 70_000)   // ~3.5 MiB
        for n in 0..<5 { try repo.write("apps/a\(n)/app.gantry.yaml", scriptRunApp(name: "a\(n)") + "\n" + padding) }
        let commit = try repo.commitAndPush("five large configs")
        let store = InMemoryStore()
        _ = try await store.addTrigger(pushTrigger(commit))
        let created = try await repo.planner(store: store).planPending()
        XCTAssertEqual(created, 5)
        let errors = await store.apps.values.compactMap(\.configError)
        XCTAssertEqual(errors, [])
    }
}
