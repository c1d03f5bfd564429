import Engine
import Foundation
import GantrySupport
import XCTest

/// Two real `gantry serve` replicas on one real PostgreSQL: they share the work with no coordinator, and one
/// dying (`kill -9`) or pausing past its lease (SIGSTOP) loses nothing and runs no finished stage twice.
final class ReplicaTests: XCTestCase {
    func testADeliverySentToBothReplicasMakesOneTrigger() async throws {
        let set = try await ReplicaSet.launch(hookTo: nil)
        defer { set.stopAll() }
        try set.git.write("svc/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  name: once\n")
        let commit = try set.git.commitAndPush("one delivery, two replicas").commit
        let signers = set.servers.map { WebhookSigner(secret: set.git.secret, url: $0.url + "/hooks/demo") }
        let delivery = signers[0].push(after: commit, before: String(repeating: "0", count: 40))
        let answers = try await withThrowingTaskGroup(of: Int.self) { group in
            for signer in signers { group.addTask { try await signer.send(delivery).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        XCTAssertEqual(answers.filter { (200..<300).contains($0) }.count, 2, "\(answers)")
        let id = try await set.servers[1].deploymentID(commit: commit)
        let done = try await set.servers[0].waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS")
        let all = try await set.servers[0].deployments()
        XCTAssertEqual(all.filter { $0.commit == commit }.count, 1, "one delivery, one deployment")
        let deliveries = try await set.servers[1].deliveries()
        XCTAssertEqual(deliveries.count, 1, "\(deliveries)")
    }

    func testSixAppsPushedAtOnceRunOnBothReplicasEachStageOnce() async throws {
        let set = try await ReplicaSet.launch()
        defer { set.stopAll() }
        let apps = (1...6).map { "app\($0)" }
        try set.writePipelines(apps, scripts: [#"echo "$GANTRY_REPLICA" >> "$MARKS/APP-stage0"; sleep 1"#,
                                               #"echo "$GANTRY_REPLICA" >> "$MARKS/APP-stage1""#])
        let commit = try set.git.commitAndPush("six apps at once").commit
        var ids: [String] = []
        _ = try await eventually("six deployments of \(commit.prefix(8))") {
            ids = try await set.servers[0].deployments().filter { $0.commit == commit }.map(\.id)
            return ids.count == 6 ? true : nil
        }
        for id in ids {
            let done = try await set.servers[1].waitForDeployment(id, timeout: 90)
            XCTAssertEqual(done.status, "SUCCESS", set.servers.map { $0.logText() }.joined(separator: "\n====\n"))
        }
        var ranOn = Set<String>()
        for app in apps {
            let first = set.lines("\(app)-stage0"), second = set.lines("\(app)-stage1")
            XCTAssertEqual(first.count, 1, "\(app) stage 0 ran \(first)")
            XCTAssertEqual(second.count, 1, "\(app) stage 1 ran \(second)")
            ranOn.formUnion(first + second)
        }
        let both = Set(try set.servers.map(set.replicaID))
        // Spread by rendezvous hashing of the (random) deployment ids: all six may prefer one replica (1 in 32).
        let preferred = Set(ids.compactMap { Engine.preferredReplica(for: $0, among: both) })
        if preferred == both { XCTAssertEqual(ranOn, both, "the work was spread over both replicas") }
        let listed = try await set.replicas(via: set.servers[0])
        XCTAssertEqual(Set(listed.keys), both)
    }

    /// Stage 0 of each app starts a `sleep` child and holds until the test releases it; the replica holding some of
    /// them is killed with -9. Its functions die with it, the other replica takes the stages over after the lease.
    func testKillNineOfAReplicaMidStageEveryDeploymentSucceedsOnTheOther() async throws {
        let set = try await ReplicaSet.launch()
        defer { set.stopAll() }
        let apps = (1...4).map { "svc\($0)" }
        try set.writePipelines(apps, scripts: [#"""
            echo "$GANTRY_REPLICA $GANTRY_ATTEMPT" >> "$MARKS/APP-starts"
            sleep 600 &
            echo $! > "$MARKS/APP-child-$GANTRY_REPLICA-$GANTRY_ATTEMPT"
            while [ ! -f "$MARKS/release" ]; do sleep 0.1; done
            kill $!
            echo "$GANTRY_REPLICA" >> "$MARKS/APP-completed"
            """#, #"echo "$GANTRY_REPLICA" >> "$MARKS/APP-stage1""#])
        let commit = try set.git.commitAndPush("four apps").commit
        _ = try await eventually("all four stage 0s to run", timeout: 60) {
            apps.allSatisfy { !set.lines("\($0)-starts").isEmpty } ? true : nil
        }
        // The victim: a replica that holds at least one stage (with two live replicas, both usually do).
        let ids = try set.servers.map(set.replicaID)
        let held = try await set.replicas(via: set.servers[0])
        let victimIndex = (held[ids[0]] ?? []).isEmpty ? 1 : 0
        let victim = set.servers[victimIndex], survivor = set.servers[1 - victimIndex]
        let victimID = ids[victimIndex]
        let victimApps = apps.filter { set.lines("\($0)-starts").first?.hasPrefix(victimID + " ") == true }
        XCTAssertFalse(victimApps.isEmpty)
        let children = victimApps.compactMap { app in
            (try? String(contentsOfFile: set.marks + "/\(app)-child-\(victimID)-1", encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        victim.kill9()
        for pid in children {
            _ = try await eventually("the killed replica's function child \(pid) to be gone", timeout: 10) {
                kill(pid, 0) == 0 && !isZombie(pid) ? nil : true
            }
        }
        // The survivor re-invokes each taken-over stage with attempt 2 once the lease expires; then release all.
        _ = try await eventually("the survivor to take over \(victimApps)", timeout: 30) {
            victimApps.allSatisfy { set.lines("\($0)-starts").contains("\(ids[1 - victimIndex]) 2") } ? true : nil
        }
        FileManager.default.createFile(atPath: set.marks + "/release", contents: nil)
        let deployments = try await survivor.deployments().filter { $0.commit == commit }
        XCTAssertEqual(deployments.count, 4)
        for d in deployments {
            let done = try await survivor.waitForDeployment(d.id, timeout: 60)
            XCTAssertEqual(done.status, "SUCCESS", survivor.logText())
            let app = done.application
            XCTAssertEqual(set.lines("\(app)-completed").count, 1, "\(app): stage 0 completed once")
            XCTAssertEqual(set.lines("\(app)-stage1").count, 1, "\(app): stage 1 completed once")
            if victimApps.contains(app) {
                XCTAssertEqual(stage(done, 0)?.attempts, 2, "\(app): the takeover shows as attempt 2")
                let logs = stage(done, 0)?.logText ?? ""
                XCTAssertTrue(logs.contains("took this stage over from \(victimID)/"), logs)
                XCTAssertEqual(set.lines("\(app)-completed"), [ids[1 - victimIndex]])
            }
        }
    }

    /// A replica paused with SIGSTOP past its lease: the other takes the stage over; when the paused one resumes,
    /// its function's result (which finished meanwhile) is discarded and the stage's result is the survivor's.
    func testAReplicaPausedPastItsLeaseHasItsLateResultDiscarded() async throws {
        let set = try await ReplicaSet.launch()
        defer { set.stopAll() }
        try set.writePipelines(["slow"], scripts: ["""
            echo "$GANTRY_REPLICA $GANTRY_ATTEMPT" >> "$MARKS/starts"
            sleep 1.5
            echo "result of $GANTRY_REPLICA attempt $GANTRY_ATTEMPT" >&2
            echo "$GANTRY_REPLICA $GANTRY_ATTEMPT" >> "$MARKS/finished"
            """])
        let commit = try set.git.commitAndPush("pipeline").commit
        let first = try await eventually("the stage to start") { set.lines("starts").first }
        let ids = try set.servers.map(set.replicaID)
        let pausedIndex = first.hasPrefix(ids[0] + " ") ? 0 : 1
        let paused = set.servers[pausedIndex], other = set.servers[1 - pausedIndex]
        kill(paused.process!.processIdentifier, SIGSTOP)
        // Its function keeps running and finishes; nobody reads its result. The lease (3 s) runs out.
        _ = try await eventually("the other replica to take over", timeout: 30) {
            set.lines("starts").contains("\(ids[1 - pausedIndex]) 2") ? true : nil
        }
        XCTAssertTrue(set.lines("finished").contains("\(ids[pausedIndex]) 1"), "the paused replica's function finished")
        kill(paused.process!.processIdentifier, SIGCONT)
        let id = try await other.deploymentID(commit: commit)
        let done = try await other.waitForDeployment(id, timeout: 60)
        XCTAssertEqual(done.status, "SUCCESS")
        let attempts = try await other.attempts(id, stage: 0)
        _ = try await eventually("the paused replica's late result to be recorded as discarded", timeout: 20) {
            let list = try await other.attempts(id, stage: 0)
            return list.first?.status == "DISCARDED" ? true : nil
        }
        XCTAssertEqual(attempts.map(\.attempt), [1, 2])
        XCTAssertEqual(attempts.last?.status, "SUCCESS")
        let logs = stage(done, 0)?.logText ?? ""
        XCTAssertTrue(logs.contains("result of \(ids[1 - pausedIndex]) attempt 2"), logs)
        XCTAssertEqual(stage(done, 0)?.status, "SUCCESS")
    }

    /// A replica stopped gracefully (SIGTERM, as a rolling update does) hands its running stage over at once: with a
    /// 60 s lease, the other replica re-invokes the stage well before the lease could have run out, and no crash
    /// recovery is counted.
    func testAGracefullyStoppedReplicaHandsItsStageOverBeforeItsLeaseRunsOut() async throws {
        let set = try await ReplicaSet.launch(leaseDuration: "60s")
        defer { set.stopAll() }
        try set.writePipelines(["long"], scripts: ["""
            echo "$GANTRY_REPLICA $GANTRY_ATTEMPT" >> "$MARKS/starts"
            if [ "$GANTRY_ATTEMPT" = 1 ]; then exec sleep 300; fi
            echo "finished on $GANTRY_REPLICA"
            """])
        let commit = try set.git.commitAndPush("pipeline").commit
        let first = try await eventually("the stage to start") { set.lines("starts").first }
        let ids = try set.servers.map(set.replicaID)
        let stoppedIndex = first.hasPrefix(ids[0] + " ") ? 0 : 1
        let other = set.servers[1 - stoppedIndex]
        set.servers[stoppedIndex].stop()
        // Half the lease: only a released lease lets the other replica in this soon.
        _ = try await eventually("the other replica to take the stage over", timeout: 30) {
            set.lines("starts").contains("\(ids[1 - stoppedIndex]) 2") ? true : nil
        }
        let id = try await other.deploymentID(commit: commit)
        let done = try await other.waitForDeployment(id, timeout: 30)
        XCTAssertEqual(done.status, "SUCCESS")
        XCTAssertEqual(stage(done, 0)?.recoveries ?? 0, 0, "a graceful stop is not a crash")
        let attempts = try await other.attempts(id, stage: 0)
        XCTAssertEqual(attempts.map(\.attempt), [1, 2])
        XCTAssertEqual(attempts.first?.errorType, "Shutdown", "\(attempts)")
    }

    /// Replicas wake each other with NOTIFY, not the safety sweep: with the sweep at 120 s, a cancel sent to the
    /// replica that does not run the stage stops the function on the one that does within seconds.
    func testACancelSentToOneReplicaStopsTheStageOnTheOtherWellBeforeTheSweep() async throws {
        // launch's server settings are one per line: the long sweep goes in with the lease.
        let set = try await ReplicaSet.launch(leaseDuration: "3s\nsweepInterval: 120s")
        defer { set.stopAll() }
        try set.writePipelines(["held"], scripts: [#"echo "$GANTRY_REPLICA" >> "$MARKS/starts"; exec sleep 300"#, "true"])
        let commit = try set.git.commitAndPush("pipeline").commit
        let first = try await eventually("the stage to start") { set.lines("starts").first }
        let ids = try set.servers.map(set.replicaID)
        let holder = first == ids[0] ? 0 : 1
        let other = set.servers[1 - holder]
        let id = try await other.deploymentID(commit: commit)
        let asked = Date()
        let answer = try await other.request("POST", "/api/v1/deployments/\(id)/cancel",
                                             body: Data(#"{"rollback": false}"#.utf8), headers: ["Content-Type": "application/json"])
        XCTAssertEqual(answer.status, 202)
        // Only the holder can stop its function, and nothing but the notification wakes it before the sweep.
        let done = try await other.waitForDeployment(id, timeout: 10)
        XCTAssertEqual(done.status, "CANCELLED")
        XCTAssertLessThan(Date().timeIntervalSince(asked), 10)
        let cancelled = try XCTUnwrap(stage(done, 0))
        XCTAssertEqual(cancelled.status, "CANCELLED", "\(cancelled)")
        XCTAssertEqual(set.lines("starts"), [ids[holder]], "the stage ran once, on the holder")
    }
}
