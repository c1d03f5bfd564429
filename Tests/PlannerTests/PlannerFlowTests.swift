import FunctionKit
import KubeSupport
import Planner
import Store
import XCTest

/// The planner end to end against real git: push, plan, inspect what was committed to the store.
final class PlannerFlowTests: XCTestCase {
    static let genericApp = """
        apiVersion: gantry.dev/v1
        kind: App
        spec:
          name: jobs
          pipeline:
            stages:
              - name: SCRIPT_RUN
                with:
                  run: ./migrate.sh
                  onRollback: ./unmigrate.sh
                timeout: 5m
              - name: WAIT
                with:
                  duration: 10s
              - name: WAIT_APPROVAL
                with:
                  approvers: [alice]
        """

    /// A PipeCD user's `.pipe.yaml`, byte for byte (one copy, in KubeSupport).
    static let pipeYAML = seedPipeYAML

    func testFirstPushOfGenericAppPlansItsPipelineWithHiddenScriptRollbackAndWritesSources() async throws {
        let repo = try GitFixture()
        try repo.write("apps/jobs/app.gantry.yaml", Self.genericApp)
        try repo.write("apps/jobs/migrate.sh", "#!/bin/sh\necho v1\n", executable: true)
        try repo.write("apps/other/readme.txt", "not part of jobs\n")
        let commit = try repo.commitAndPush("add jobs\n\nwith a migration")
        let store = InMemoryStore()
        let trigger = try await store.addTrigger(pushTrigger(commit))

        let created = try await repo.planner(store: store).planPending()

        XCTAssertEqual(created, 1)
        let outcome = try await unwrapped(store.outcome(trigger: trigger))
        let detail = try XCTUnwrap(outcome.deployments.first)
        let d = detail.deployment
        XCTAssertEqual(d.application, "jobs")
        XCTAssertEqual(d.appPath, "apps/jobs")
        XCTAssertEqual(d.commit, commit)
        XCTAssertEqual(d.status, .planned)
        XCTAssertNil(d.runningCommit)
        XCTAssertNil(d.platform)
        XCTAssertEqual(d.strategy, .pipeline)
        XCTAssertTrue(d.summary.contains("no platform"), d.summary)
        XCTAssertEqual(d.commitMessage, "add jobs\n\nwith a migration")
        XCTAssertEqual(d.author, "Test Author")
        XCTAssertEqual(d.triggerKind, .webhook)
        XCTAssertEqual(d.timeoutSeconds, 6 * 3600)
        XCTAssertTrue(d.autoRollback)
        XCTAssertEqual(d.id, d.id.lowercased())
        XCTAssertNotNil(UUID(uuidString: d.id))

        XCTAssertEqual(detail.stages.map(\.name), ["SCRIPT_RUN", "WAIT", "WAIT_APPROVAL", "SCRIPT_RUN_ROLLBACK"])
        XCTAssertEqual(detail.stages.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(detail.stages.map(\.rollback), [false, false, false, true])
        XCTAssertTrue(detail.stages.allSatisfy { $0.deploymentID == d.id && $0.status == .notStarted })
        XCTAssertEqual(detail.stages[0].timeoutSeconds, 300)
        XCTAssertEqual(try JSONValue.decode(detail.stages[0].withJSON),
                       .object(["run": .string("./migrate.sh"), "onRollback": .string("./unmigrate.sh")]))
        XCTAssertEqual(try JSONValue.decode(detail.stages[2].withJSON), .object(["approvers": .array([.string("alice")])]))
        XCTAssertEqual(detail.stages[3].rollbackOf, 0)
        XCTAssertEqual(detail.stages[3].withJSON, detail.stages[0].withJSON)

        let app = try await unwrapped(store.apps["jobs"])
        XCTAssertEqual(app.lastTriggeredCommit, commit)
        XCTAssertEqual(app.configFile, "apps/jobs/app.gantry.yaml")
        XCTAssertEqual(app.kind, "App")
        XCTAssertNil(app.configError)
        let pending = await store.pendingIDs
        XCTAssertEqual(pending, [])

        let sources = Planner.sourcesDirectory(dataDir: repo.dataDir, deploymentID: d.id)
        XCTAssertEqual(repo.readSource(sources.target, "migrate.sh"), "#!/bin/sh\necho v1\n")
        XCTAssertEqual(repo.readSource(sources.target, "app.gantry.yaml"), Self.genericApp)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: sources.target + "/migrate.sh"))
        XCTAssertNil(repo.readSource(sources.target, "readme.txt"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: sources.running))
    }

    func testPipeCDArticleExampleQuickSyncsFirstThenRunsItsPipeline() async throws {
        let repo = try GitFixture()
        try repo.write("web/.pipe.yaml", Self.pipeYAML)
        try repo.write("web/deployment.yaml", "replicas: 3\nimage: web:v1\n")
        let first = try repo.commitAndPush("web v1")
        let store = InMemoryStore()
        let platforms = [PlatformConfig(name: "dev-cluster", kind: "kubernetes"), PlatformConfig(name: "aws", kind: "lambda")]
        let planner = try repo.planner(store: store, platforms: platforms)
        _ = try await store.addTrigger(pushTrigger(first))
        let firstCreated = try await planner.planPending()
        XCTAssertEqual(firstCreated, 1)

        let quick = try await unwrapped(store.deployments.last)
        XCTAssertEqual(quick.deployment.application, "web")
        XCTAssertEqual(quick.deployment.platform, "dev-cluster")
        XCTAssertEqual(quick.deployment.strategy, .quickSync)
        XCTAssertEqual(quick.deployment.summary, "Quick sync because this is the first deployment")
        XCTAssertEqual(quick.stages.map(\.name), ["K8S_SYNC", "ROLLBACK"])
        XCTAssertEqual(quick.stages.map(\.rollback), [false, true])
        XCTAssertEqual(quick.stages.map(\.index), [0, 1])
        let firstApp = await store.apps["web"]
        XCTAssertEqual(firstApp?.kind, "KubernetesApp")

        await store.setRunningCommit("web", first)
        try repo.write("web/deployment.yaml", "replicas: 3\nimage: web:v2\n")
        let second = try repo.commitAndPush("web v2")
        _ = try await store.addTrigger(pushTrigger(second))
        let secondCreated = try await planner.planPending()
        XCTAssertEqual(secondCreated, 1)

        let pipeline = try await unwrapped(store.deployments.last)
        let d = pipeline.deployment
        XCTAssertEqual(d.strategy, .pipeline)
        XCTAssertEqual(d.commit, second)
        XCTAssertEqual(d.runningCommit, first)
        XCTAssertEqual(pipeline.forwardStageNames, ["K8S_CANARY_ROLLOUT", "WAIT", "K8S_PRIMARY_ROLLOUT", "K8S_CANARY_CLEAN"])
        XCTAssertEqual(pipeline.rollbackStageNames, ["ROLLBACK"])
        XCTAssertEqual(pipeline.stages.last?.index, 4)
        XCTAssertEqual(try JSONValue.decode(pipeline.stages[0].withJSON), .object(["replicas": .string("60%")]))
        XCTAssertEqual(try JSONValue.decode(pipeline.stages[1].withJSON), .object(["duration": .string("10s")]))
        XCTAssertEqual(pipeline.stages[2].withJSON, "{}")

        let app = try await unwrapped(store.apps["web"])
        XCTAssertEqual(app.runningCommit, first, "the planner keeps the running commit as stored")
        XCTAssertEqual(app.lastTriggeredCommit, second)

        let sources = Planner.sourcesDirectory(dataDir: repo.dataDir, deploymentID: d.id)
        XCTAssertEqual(repo.readSource(sources.target, "deployment.yaml"), "replicas: 3\nimage: web:v2\n")
        XCTAssertEqual(repo.readSource(sources.running, "deployment.yaml"), "replicas: 3\nimage: web:v1\n")
        XCTAssertEqual(repo.readSource(sources.target, ".pipe.yaml"), Self.pipeYAML)
    }

    func testAppAtRepositoryRootIsNamedAfterTheRepositoryAndGetsTheWholeTree() async throws {
        let repo = try GitFixture()
        try repo.write(".pipe.yaml", Self.pipeYAML)
        try repo.write("manifests/deployment.yaml", "kind: Deployment\n")
        let commit = try repo.commitAndPush("root app")
        let store = InMemoryStore()
        _ = try await store.addTrigger(pushTrigger(commit, repository: "shop"))

        let created = try await repo.planner(store: store, repositoryID: "shop").planPending()

        XCTAssertEqual(created, 1)
        let d = try await unwrapped(store.deployments.first).deployment
        XCTAssertEqual(d.application, "shop")
        XCTAssertEqual(d.appPath, "")
        XCTAssertNil(d.platform, "no kubernetes platform in the server config")
        let sources = Planner.sourcesDirectory(dataDir: repo.dataDir, deploymentID: d.id)
        XCTAssertEqual(repo.readSource(sources.target, "manifests/deployment.yaml"), "kind: Deployment\n")
        XCTAssertEqual(repo.readSource(sources.target, ".pipe.yaml"), Self.pipeYAML)
    }

    func testLateDeliveriesPlanTheBranchHeadOnceAndAReplayDeploysNothing() async throws {
        let repo = try GitFixture()
        try repo.write("web/.pipe.yaml", Self.pipeYAML)
        let a = try repo.commitAndPush("A")
        try repo.write("web/deployment.yaml", "image: web:v2\n")
        let b = try repo.commitAndPush("B")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)

        // Both deliveries pending at once: the head (B) is deployed once, planned with B's trigger; A's delivery
        // is answered by that plan.
        let late = try await store.addTrigger(pushTrigger(a))
        let current = try await store.addTrigger(pushTrigger(b))
        let created = try await planner.planPending()
        XCTAssertEqual(created, 1)
        let commits = await store.deployments.map(\.deployment.commit)
        XCTAssertEqual(commits, [b])
        let lateNote = await store.outcome(trigger: late)?.note ?? ""
        XCTAssertEqual(lateNote, "coalesced into trigger \(current), which planned the branch head")

        // The delivery of A arrives again after B was planned: the head is deployed already.
        let replay = try await store.addTrigger(pushTrigger(a))
        let replayCreated = try await planner.planPending()
        XCTAssertEqual(replayCreated, 0)
        let outcome = try await unwrapped(store.outcome(trigger: replay))
        XCTAssertTrue(outcome.deployments.isEmpty)
        XCTAssertTrue(outcome.applications.isEmpty)
        XCTAssertTrue(outcome.note.contains("\(a.prefix(7)) is no longer the head of main (\(b.prefix(7)) is)"), outcome.note)
        XCTAssertTrue(outcome.note.contains("no application touched by \(b.prefix(7))"), outcome.note)
        let app = await store.apps["web"]
        XCTAssertEqual(app?.lastTriggeredCommit, b)

        // The same delivery of B again: nothing new to deploy.
        let again = try await store.addTrigger(pushTrigger(b))
        _ = try await planner.planPending()
        let againNote = await store.outcome(trigger: again)?.note
        XCTAssertEqual(againNote, "no application touched by \(b.prefix(7))")
    }

    func testForcePushBackToAnOlderCommitDeploysItAsARollbackByGit() async throws {
        let repo = try GitFixture()
        try repo.write("web/.pipe.yaml", Self.pipeYAML)
        try repo.write("web/deployment.yaml", "image: web:v1\n")
        let v1 = try repo.commitAndPush("v1")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)
        _ = try await store.addTrigger(pushTrigger(v1))
        _ = try await planner.planPending()
        await store.setRunningCommit("web", v1)
        try repo.write("web/deployment.yaml", "image: web:v2\n")
        let v2 = try repo.commitAndPush("v2")
        _ = try await store.addTrigger(pushTrigger(v2))
        _ = try await planner.planPending()
        await store.setRunningCommit("web", v2)
        let deployed = await store.deployments.map(\.deployment.commit)
        XCTAssertEqual(deployed, [v1, v2])

        // git reset --hard v1 && git push -f
        try repo.git(["reset", "--quiet", "--hard", v1])
        try repo.git(["push", "--quiet", "--force", "origin", "HEAD:refs/heads/main"])
        let rollback = try await store.addTrigger(pushTrigger(v1))
        let created = try await planner.planPending()

        XCTAssertEqual(created, 1)
        let d = try await unwrapped(store.outcome(trigger: rollback)?.deployments.first).deployment
        XCTAssertEqual(d.commit, v1)
        XCTAssertTrue(d.summary.hasPrefix("Rollback by Git: head moved from \(v2.prefix(7)) to \(v1.prefix(7))."), d.summary)
        XCTAssertEqual(d.strategy, .pipeline, "the app's normal strategy applies: its pipeline")
        let sources = Planner.sourcesDirectory(dataDir: repo.dataDir, deploymentID: d.id)
        XCTAssertEqual(repo.readSource(sources.target, "deployment.yaml"), "image: web:v1\n")
        let app = await store.apps["web"]
        XCTAssertEqual(app?.lastTriggeredCommit, v1)

        // v2's delivery replayed afterwards: v2 is not the head, and the head is deployed.
        let replay = try await store.addTrigger(pushTrigger(v2))
        let replayCreated = try await planner.planPending()
        XCTAssertEqual(replayCreated, 0)
        let note = await store.outcome(trigger: replay)?.note ?? ""
        XCTAssertTrue(note.contains("\(v2.prefix(7)) is no longer the head of main"), note)
    }

    func testReplayedOldDeliveryDoesNotBringBackAnOldConfigError() async throws {
        let repo = try GitFixture()
        try repo.write("web/.pipe.yaml", "apiVersion: pipecd.dev/v1beta1\nkind: [\n")
        let brokenCommit = try repo.commitAndPush("broken config")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)
        _ = try await store.addTrigger(pushTrigger(brokenCommit))
        _ = try await planner.planPending()
        let broken = await store.apps["web"]?.configError
        XCTAssertNotNil(broken)

        try repo.write("web/.pipe.yaml", Self.pipeYAML)
        let fixed = try repo.commitAndPush("fixed config")
        _ = try await store.addTrigger(pushTrigger(fixed))
        _ = try await planner.planPending()
        let cleared = await store.apps["web"]
        XCTAssertNil(cleared?.configError)
        XCTAssertEqual(cleared?.lastTriggeredCommit, fixed)

        let replay = try await store.addTrigger(pushTrigger(brokenCommit))
        _ = try await planner.planPending()
        let after = await store.apps["web"]
        XCTAssertNil(after?.configError, "an old commit's config must not overwrite the current one")
        let note = await store.outcome(trigger: replay)?.note ?? ""
        XCTAssertTrue(note.hasPrefix("\(brokenCommit.prefix(7)) is no longer the head of main"), note)
    }

    func testPayloadCommitUnknownToTheMirrorFallsBackToTheBranchHead() async throws {
        let repo = try GitFixture()
        try repo.write("web/.pipe.yaml", Self.pipeYAML)
        let head = try repo.commitAndPush("A")
        let store = InMemoryStore()
        _ = try await store.addTrigger(pushTrigger(String(repeating: "ab", count: 20)))

        let created = try await repo.planner(store: store).planPending()

        XCTAssertEqual(created, 1)
        let commit = await store.deployments.first?.deployment.commit
        XCTAssertEqual(commit, head)
    }

    func testUnreachableRemoteThrowsANamedGitErrorAndLeavesTheTriggerPending() async throws {
        let repo = try GitFixture()
        try repo.write("web/.pipe.yaml", Self.pipeYAML)
        let commit = try repo.commitAndPush("A")
        let store = InMemoryStore()
        let broken = RepositoryConfig(id: "gone", remote: repo.root + "/no-such-repo.git", branch: "main")
        let planner = try repo.planner(store: store, extraRepositories: [broken])
        let stuck = try await store.addTrigger(pushTrigger("1234567", repository: "gone"))
        let fine = try await store.addTrigger(pushTrigger(commit))

        do {
            _ = try await planner.planPending()
            XCTFail("planPending must throw when the remote cannot be fetched")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains("git fetch"), text)
            XCTAssertTrue(text.contains("no-such-repo.git"), text)
            XCTAssertTrue(text.contains("exit 128"), text)
        }
        let pending = await store.pendingIDs
        XCTAssertEqual(pending, [stuck])
        // The other repository's trigger was still planned.
        let other = await store.outcome(trigger: fine)
        XCTAssertEqual(other?.deployments.count, 1)
    }

    func testTriggerOfAnUnknownRepositoryIsClosedWithANote() async throws {
        let repo = try GitFixture()
        let store = InMemoryStore()
        let id = try await store.addTrigger(pushTrigger("abcdef0", repository: "nobody"))

        let created = try await repo.planner(store: store).planPending()

        XCTAssertEqual(created, 0)
        let pending = await store.pendingIDs
        XCTAssertEqual(pending, [])
        let note = await store.outcome(trigger: id)?.note ?? ""
        XCTAssertTrue(note.contains("unknown repository nobody"), note)
    }

    func testRunKeepsPlanningOtherRepositoriesWhileOneCannotBeFetched() async throws {
        let repo = try GitFixture()
        try repo.write("web/.pipe.yaml", Self.pipeYAML)
        let commit = try repo.commitAndPush("A")
        let store = InMemoryStore()
        let broken = RepositoryConfig(id: "gone", remote: repo.root + "/no-such-repo.git", branch: "main")
        let planner = try repo.planner(store: store, extraRepositories: [broken])
        let stuck = try await store.addTrigger(pushTrigger("1234567", repository: "gone"))
        let wakeup = Wakeup()
        let planned = expectation(description: "onPlanned called")
        planned.assertForOverFulfill = false

        let loop = Task { await planner.run(wakeup: wakeup) { planned.fulfill() } }
        _ = try await store.addTrigger(pushTrigger(commit))
        wakeup.signal()
        await fulfillment(of: [planned], timeout: 20)
        let pending = await store.pendingIDs
        XCTAssertEqual(pending, [stuck], "the unreachable repository's trigger waits for a retry")

        // Cancelling returns promptly even while the loop waits out a retry delay.
        loop.cancel()
        let stopped = expectation(description: "run returned")
        Task { await loop.value; stopped.fulfill() }
        await fulfillment(of: [stopped], timeout: 10)
    }

    func testRunPlansOnWakeupCallsOnPlannedAndStopsWhenCancelled() async throws {
        let repo = try GitFixture()
        try repo.write("web/.pipe.yaml", Self.pipeYAML)
        let commit = try repo.commitAndPush("A")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)
        let wakeup = Wakeup()
        let planned = expectation(description: "onPlanned called")
        planned.assertForOverFulfill = false

        let loop = Task { await planner.run(wakeup: wakeup) { planned.fulfill() } }
        _ = try await store.addTrigger(pushTrigger(commit))
        wakeup.signal()
        await fulfillment(of: [planned], timeout: 20)
        let count = await store.deployments.count
        XCTAssertEqual(count, 1)

        loop.cancel()
        let stopped = expectation(description: "run returned")
        Task { await loop.value; stopped.fulfill() }
        await fulfillment(of: [stopped], timeout: 10)
    }
}
