import Foundation
import GantrySupport
import Store
import XCTest

/// The store contract the engine and the replicas rely on, written once and run on SQLite and on a real
/// PostgreSQL. Several handles on one store stand for several replicas: what must hold across replicas is checked
/// with concurrent calls from different handles.
final class StoreBehaviourTests: XCTestCase {
    /// A committed plan: one trigger, one application, one RUNNING deployment with `stages` stages; returns its id.
    static func runningDeployment(_ store: any Store, app: String = "web", stages: [String] = ["WAIT", "WAIT"]) async throws -> String {
        let trigger = try await store.addTrigger(NewTrigger(repository: "demo", ref: "refs/heads/main", commit: "c1", kind: .manual))
        let id = UUID().uuidString.lowercased()
        let deployment = Deployment(id: id, application: app, repository: "demo", appPath: app, platform: nil, commit: "c1",
                                    runningCommit: nil, triggerKind: .manual, commitMessage: "m", author: "a",
                                    strategy: .pipeline, summary: "s")
        let detail = DeploymentDetail(deployment: deployment, stages: stages.enumerated().map {
            Stage(deploymentID: id, index: $0.offset, name: $0.element, withJSON: "{\"duration\":\"1s\"}")
        })
        try await store.commitPlan(PlanOutcome(triggerID: trigger, applications: [
            Application(name: app, repository: "demo", path: app, configFile: app + "/app.gantry.yaml", kind: "App")],
            deployments: [detail]))
        _ = try await store.activateNextDeployments(now: Date())
        return id
    }

    static func lease(_ stage: Stage, owner: String, now: Date = Date(), expiry: Double = 10, newAttempt: Bool = true) -> LeaseRequest {
        LeaseRequest(deploymentID: stage.deploymentID, index: stage.index, expectedAttempt: stage.attempt,
                     expectedStatus: stage.status, newAttempt: newAttempt, owner: owner,
                     leaseExpiry: now.addingTimeInterval(expiry), functionName: "wait", functionVersion: "v1",
                     callbackHash: nil, now: now)
    }

    func stage(_ store: any Store, _ id: String, _ index: Int = 0) async throws -> Stage {
        try await store.deployment(id: id)!.stages[index]
    }

    func testADeliverySentToSeveralReplicasAtOnceMakesOneTrigger() async throws {
        try await forEachStore { backend in
            let stores = try await backend.open(handles: 2)
            let delivery = NewDelivery(binding: "hook", deliveryID: "same", event: "push", verdict: .accepted, reason: "push",
                                       trigger: NewTrigger(repository: "demo", ref: "refs/heads/main", commit: "c1", kind: .webhook))
            let results = try await withThrowingTaskGroup(of: IngestResult.self) { group in
                for i in 0..<16 { group.addTask { try await stores[i % 2].ingest(delivery) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(results.filter { $0 != .duplicate }.count, 1, backend.rawValue)
            let pending = try await stores[1].pendingTriggerCount()
            XCTAssertEqual(pending, 1, backend.rawValue)
        }
    }

    func testAStageIsLeasedByOneReplicaAndItsAttemptFencesTheOthers() async throws {
        try await forEachStore { backend in
            let stores = try await backend.open(handles: 2)
            let id = try await Self.runningDeployment(stores[0])
            let fresh = try await stage(stores[0], id)
            let leased = try await withThrowingTaskGroup(of: Int?.self) { group in
                for i in 0..<8 { group.addTask { try await stores[i % 2].leaseStage(Self.lease(fresh, owner: "r\(i % 2)/p")).map { _ in i } } }
                return try await group.reduce(into: [Int]()) { if let i = $1 { $0.append(i) } }
            }
            XCTAssertEqual(leased.count, 1, "\(backend): exactly one lease of a NOT_STARTED stage")
            let running = try await stage(stores[1], id)
            XCTAssertEqual(running.status, .running)
            XCTAssertEqual(running.attempt, 1)
            // A checkpoint or result of another attempt changes nothing.
            let staleCheckpoint = try await stores[1].saveCheckpoint(deploymentID: id, index: 0, attempt: 7, checkpoint: "{}", schema: nil)
            XCTAssertFalse(staleCheckpoint, backend.rawValue)
            let checkpoint = try await stores[1].saveCheckpoint(deploymentID: id, index: 0, attempt: 1, checkpoint: "{\"n\":1}", schema: nil)
            XCTAssertTrue(checkpoint, backend.rawValue)
        }
    }

    func testARunningStageIsTakenOverOnlyAfterItsLeaseExpiredAndTheLateResultIsDiscarded() async throws {
        try await forEachStore { backend in
            let stores = try await backend.open(handles: 2)
            let id = try await Self.runningDeployment(stores[0])
            let now = Date()
            guard let (first, firstInvocation) = try await stores[0].leaseStage(Self.lease(try await stage(stores[0], id), owner: "a/1", now: now))
            else { return XCTFail("\(backend): first lease") }
            _ = try await stores[0].saveCheckpoint(deploymentID: id, index: 0, attempt: 1, checkpoint: "{\"done\":3}", schema: nil)

            // Live lease: another replica cannot take the stage, not even with the right attempt and status.
            let seen = try await stage(stores[1], id)
            let early = try await stores[1].leaseStage(Self.lease(seen, owner: "b/1", now: now.addingTimeInterval(5)))
            XCTAssertNil(early, "\(backend): taken over before expiry")

            // Past expiry: taken over with attempt + 1, the last checkpoint, one recovery; the old invocation ends.
            guard let (taken, _) = try await stores[1].leaseStage(Self.lease(seen, owner: "b/1", now: now.addingTimeInterval(11)))
            else { return XCTFail("\(backend): takeover after expiry") }
            XCTAssertEqual(taken.attempt, first.attempt + 1, backend.rawValue)
            XCTAssertEqual(taken.checkpoint, "{\"done\":3}", backend.rawValue)
            XCTAssertEqual(taken.recoveries, 1, backend.rawValue)
            XCTAssertEqual(taken.leaseOwner, "b/1", backend.rawValue)

            // The paused replica comes back: its renewal fails, its checkpoint and result are discarded.
            let beat = try await stores[0].heartbeat(replica: "a", owner: "a/1", startedAt: now,
                                                     leases: [HeldLease(deploymentID: id, index: 0, attempt: 1)],
                                                     leaseExpiry: Date().addingTimeInterval(10), liveWithin: 10, now: Date())
            XCTAssertEqual(beat.lost, [HeldLease(deploymentID: id, index: 0, attempt: 1)], backend.rawValue)
            let lateCheckpoint = try await stores[0].saveCheckpoint(deploymentID: id, index: 0, attempt: 1, checkpoint: "{\"late\":1}", schema: nil)
            XCTAssertFalse(lateCheckpoint, backend.rawValue)
            let late = try await stores[0].finishAttempt(AttemptFinish(
                deploymentID: id, index: 0, attempt: 1, invocationID: firstInvocation, status: .success, errorType: nil,
                message: "late", resumeAt: nil, waitingFor: nil, reportJSON: nil, now: Date())).applied
            XCTAssertFalse(late, backend.rawValue)
            let after = try await stage(stores[1], id)
            XCTAssertEqual(after.status, .running, backend.rawValue)
            XCTAssertEqual(after.checkpoint, "{\"done\":3}", backend.rawValue)
            let invocations = try await stores[1].invocations(deploymentID: id, stageIndex: 0)
            XCTAssertEqual(invocations.map(\.status), ["DISCARDED", nil], backend.rawValue)
            XCTAssertEqual(invocations.map(\.attempt), [1, 2], backend.rawValue)
        }
    }

    func testASuccessLeasesTheNextStageInTheSameCommitOnlyWhileTheDeploymentRuns() async throws {
        try await forEachStore { backend in
            let store = try await backend.open(handles: 1)[0]
            let id = try await Self.runningDeployment(store, stages: ["WAIT", "WAIT", "WAIT"])
            guard let (first, invocation) = try await store.leaseStage(Self.lease(try await stage(store, id), owner: "a/1"))
            else { return XCTFail("lease") }
            _ = try await store.mergeOutputs(deploymentID: id, index: 0, attempt: 1, outputs: ["url": "x"])
            let second = try await stage(store, id, 1)
            let done = try await store.finishAttempt(AttemptFinish(
                deploymentID: id, index: 0, attempt: first.attempt, invocationID: invocation, status: .success,
                errorType: nil, message: "", resumeAt: nil, waitingFor: nil, reportJSON: nil,
                next: Self.lease(second, owner: "a/1"), now: Date()))
            XCTAssertTrue(done.applied, backend.rawValue)
            XCTAssertEqual(done.outputs, "{\"url\":\"x\"}", backend.rawValue)
            XCTAssertEqual(done.next?.stage.index, 1, backend.rawValue)
            XCTAssertEqual(done.next?.stage.status, .running, backend.rawValue)
            let rows = try await store.deployment(id: id)!.stages
            XCTAssertEqual(rows.map(\.status), [.success, .running, .notStarted], backend.rawValue)

            // A cancel asked for meanwhile: the outcome is stored, the next stage is left to the engine's decision.
            _ = try await store.requestCancel(deploymentID: id, rollback: true)
            let third = try await stage(store, id, 2)
            let cancelled = try await store.finishAttempt(AttemptFinish(
                deploymentID: id, index: 1, attempt: 1, invocationID: done.next!.invocationID, status: .success,
                errorType: nil, message: "", resumeAt: nil, waitingFor: nil, reportJSON: nil,
                next: Self.lease(third, owner: "a/1"), now: Date()))
            XCTAssertTrue(cancelled.applied, backend.rawValue)
            XCTAssertNil(cancelled.next, backend.rawValue)
            let after = try await store.deployment(id: id)!.stages
            XCTAssertEqual(after.map(\.status), [.success, .success, .notStarted], backend.rawValue)
        }
    }

    func testATimerFiresOnceWhenSeveralReplicasSeeItDue() async throws {
        try await forEachStore { backend in
            let stores = try await backend.open(handles: 2)
            let id = try await Self.runningDeployment(stores[0])
            guard let (leased, invocation) = try await stores[0].leaseStage(Self.lease(try await stage(stores[0], id), owner: "a/1"))
            else { return XCTFail("lease") }
            let suspended = try await stores[0].finishAttempt(AttemptFinish(
                deploymentID: id, index: 0, attempt: leased.attempt, invocationID: invocation, status: .suspended,
                errorType: nil, message: "", resumeAt: Date().addingTimeInterval(-1), waitingFor: nil, reportJSON: nil, now: Date())).applied
            XCTAssertTrue(suspended)
            let due = try await stage(stores[1], id)
            XCTAssertEqual(due.status, .suspended)
            let wakes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<8 {
                    group.addTask { try await stores[i % 2].leaseStage(Self.lease(due, owner: "r\(i)/p", newAttempt: false)) != nil }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            XCTAssertEqual(wakes, 1, "\(backend): the timer fired \(wakes) times")
        }
    }

    func testOneActiveDeploymentPerApplicationAcrossReplicas() async throws {
        try await forEachStore { backend in
            let stores = try await backend.open(handles: 2)
            var ids: [String] = []
            for n in 0..<3 {
                let trigger = try await stores[0].addTrigger(NewTrigger(repository: "demo", ref: "refs/heads/main", commit: "c\(n)", kind: .manual))
                let id = "dep-\(n)-\(UUID().uuidString.prefix(6))"
                ids.append(id)
                try await stores[0].commitPlan(PlanOutcome(triggerID: trigger, applications: [], deployments: [DeploymentDetail(
                    deployment: Deployment(id: id, application: "api", repository: "demo", appPath: "api", platform: nil,
                                           commit: "c\(n)", runningCommit: nil, triggerKind: .manual, commitMessage: "",
                                           author: "", strategy: .pipeline, summary: ""),
                    stages: [Stage(deploymentID: id, index: 0, name: "WAIT")])]))
            }
            let started = try await withThrowingTaskGroup(of: [String].self) { group in
                for i in 0..<6 { group.addTask { try await stores[i % 2].activateNextDeployments(now: Date()).map(\.id) } }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            XCTAssertEqual(started, [ids[2]], "\(backend): only the newest starts, once")
            let all = try await stores[1].deployments(application: "api", limit: 10)
            XCTAssertEqual(all.filter { $0.deployment.status == .running }.map(\.deployment.id), [ids[2]], backend.rawValue)
            XCTAssertEqual(all.filter { $0.deployment.status == .cancelled }.count, 2, backend.rawValue)
        }
    }

    func testATriggerIsPlannedOnceEvenWhenTwoReplicasCommitAPlanForIt() async throws {
        try await forEachStore { backend in
            let stores = try await backend.open(handles: 2)
            let trigger = try await stores[0].addTrigger(NewTrigger(repository: "demo", ref: "refs/heads/main", commit: "c1", kind: .manual))
            for (n, store) in stores.enumerated() {
                let id = "dep-\(n)"
                try await store.commitPlan(PlanOutcome(triggerID: trigger, applications: [], deployments: [DeploymentDetail(
                    deployment: Deployment(id: id, application: "api", repository: "demo", appPath: "api", platform: nil,
                                           commit: "c1", runningCommit: nil, triggerKind: .manual, commitMessage: "",
                                           author: "", strategy: .pipeline, summary: ""),
                    stages: [Stage(deploymentID: id, index: 0, name: "WAIT")])]))
            }
            let all = try await stores[1].deployments(application: nil, limit: 10)
            XCTAssertEqual(all.map(\.deployment.id), ["dep-0"], backend.rawValue)
            let pending = try await stores[1].pendingTriggerCount()
            XCTAssertEqual(pending, 0, backend.rawValue)
        }
    }

    func testAPlanFinishesTheTriggersItCoalescedAndNoOthers() async throws {
        try await forEachStore { backend in
            let store = try await backend.open()
            var ids: [Int64] = []
            for n in 0..<3 {
                ids.append(try await store.addTrigger(NewTrigger(repository: "demo", ref: "refs/heads/main", commit: "c\(n)",
                                                                kind: .webhook)))
            }
            var outcome = PlanOutcome(triggerID: ids[1], applications: [], deployments: [], note: "planned")
            outcome.coalesced = [ids[0]]
            try await store.commitPlan(outcome)
            let pending = try await store.pendingTriggers(limit: 10).map(\.id)
            XCTAssertEqual(pending, [ids[2]], backend.rawValue)
        }
    }

    func testStagesOfAnEarlierProcessOfThisReplicaAreRecoveredButOtherReplicasStagesAreNot() async throws {
        try await forEachStore { backend in
            let store = try await backend.open()
            let mine = try await Self.runningDeployment(store, app: "one")
            let theirs = try await Self.runningDeployment(store, app: "two")
            _ = try await store.leaseStage(Self.lease(try await stage(store, mine), owner: "alpha/old-process"))
            _ = try await store.leaseStage(Self.lease(try await stage(store, theirs), owner: "beta/p"))
            let orphans = try await store.orphanedStages(replica: "alpha", liveOwner: "alpha/new-process", now: Date())
            XCTAssertEqual(orphans.map(\.deploymentID), [mine], backend.rawValue)
            let none = try await store.orphanedStages(replica: "alpha", liveOwner: "alpha/old-process", now: Date())
            XCTAssertEqual(none.map(\.deploymentID), [], backend.rawValue)
            let interrupted = try await store.markInterrupted(deploymentID: mine, index: 0, now: Date())
            XCTAssertEqual(interrupted?.recoveries, 1, backend.rawValue)
            XCTAssertNil(interrupted?.leaseOwner, backend.rawValue)
            // Re-leasing it now counts no second recovery: the interrupted invocation is closed already.
            let again = try await store.leaseStage(Self.lease(interrupted!, owner: "alpha/new-process"))
            XCTAssertEqual(again?.stage.recoveries, 1, backend.rawValue)
            XCTAssertEqual(again?.stage.attempt, 2, backend.rawValue)
        }
    }

    func testReplicasShowTheirHeartbeatAndTheStagesTheyHold() async throws {
        try await forEachStore { backend in
            let stores = try await backend.open(handles: 2)
            let id = try await Self.runningDeployment(stores[0])
            let now = Date()
            _ = try await stores[0].leaseStage(Self.lease(try await stage(stores[0], id), owner: "alpha/p1"))
            let a = try await stores[0].heartbeat(replica: "alpha", owner: "alpha/p1", startedAt: now,
                                                  leases: [HeldLease(deploymentID: id, index: 0, attempt: 1)],
                                                  leaseExpiry: now.addingTimeInterval(30), liveWithin: 10, now: now)
            XCTAssertEqual(a.lost, [], backend.rawValue)
            let b = try await stores[1].heartbeat(replica: "beta", owner: "beta/p1", startedAt: now, leases: [],
                                                  leaseExpiry: now.addingTimeInterval(10), liveWithin: 10, now: now)
            XCTAssertEqual(b.liveReplicas, ["alpha", "beta"], backend.rawValue)
            let renewed = try await stage(stores[1], id)
            XCTAssertEqual(renewed.leaseExpiry?.timeIntervalSince1970 ?? 0, now.addingTimeInterval(30).timeIntervalSince1970,
                           accuracy: 0.001, backend.rawValue)
            let replicas = try await stores[1].replicas()
            XCTAssertEqual(replicas.map(\.id), ["alpha", "beta"], backend.rawValue)
            XCTAssertEqual(replicas.map(\.stagesHeld), [["\(id)/0"], []], backend.rawValue)
            // Much later, nobody beat: nobody is live.
            let later = try await stores[1].heartbeat(replica: "beta", owner: "beta/p1", startedAt: now, leases: [],
                                                      leaseExpiry: now, liveWithin: 10, now: now.addingTimeInterval(60))
            XCTAssertEqual(later.liveReplicas, ["beta"], backend.rawValue)
        }
    }

    func testACallbackTokenIsSingleUseAndResumesTheSuspendedStage() async throws {
        try await forEachStore { backend in
            let store = try await backend.open()
            let id = try await Self.runningDeployment(store)
            var request = Self.lease(try await stage(store, id), owner: "a/1")
            request.callbackHash = "hash-\(backend)"
            guard let (leased, invocation) = try await store.leaseStage(request) else { return XCTFail("lease") }
            _ = try await store.finishAttempt(AttemptFinish(
                deploymentID: id, index: 0, attempt: leased.attempt, invocationID: invocation, status: .suspended,
                errorType: nil, message: "", resumeAt: Date().addingTimeInterval(3600), waitingFor: "callback",
                reportJSON: nil, now: Date()))
            let beat = try await store.resolveCallback(tokenHash: "hash-\(backend)", status: "heartbeat", payloadJSON: nil, now: Date())
            XCTAssertEqual(beat, .heartbeat(deploymentID: id), backend.rawValue)
            let first = try await store.resolveCallback(tokenHash: "hash-\(backend)", status: "succeeded",
                                                        payloadJSON: "{\"ok\":true}", now: Date())
            XCTAssertEqual(first, .resolved(deploymentID: id), backend.rawValue)
            let second = try await store.resolveCallback(tokenHash: "hash-\(backend)", status: "succeeded", payloadJSON: nil, now: Date())
            XCTAssertEqual(second, .unknown, backend.rawValue)
            let resumed = try await stage(store, id)
            XCTAssertNotNil(resumed.resumeJSON, backend.rawValue)
            XCTAssertLessThanOrEqual(resumed.resumeAt ?? .distantFuture, Date(), backend.rawValue)
        }
    }

    func testLogsOutputsApprovalsCancelAndSuccessRoundTrip() async throws {
        try await forEachStore { backend in
            let store = try await backend.open()
            let id = try await Self.runningDeployment(store)
            guard let (leased, invocation) = try await store.leaseStage(Self.lease(try await stage(store, id), owner: "a/1"))
            else { return XCTFail("lease") }
            try await store.appendLogs((0..<3).map { StageLogLine(deploymentID: id, stageIndex: 0, attempt: 1, line: "line \($0)") })
            let merged = try await store.mergeOutputs(deploymentID: id, index: 0, attempt: leased.attempt, outputs: ["k": "v"])
            XCTAssertTrue(merged, backend.rawValue)
            try await store.recordProcess(deploymentID: id, index: 0, attempt: 1, group: 4242, start: 123456789)
            let withProcess = try await stage(store, id)
            XCTAssertEqual(withProcess.processGroup, 4242, backend.rawValue)
            XCTAssertEqual(withProcess.processStart, 123456789, backend.rawValue)
            let done = try await store.finishAttempt(AttemptFinish(
                deploymentID: id, index: 0, attempt: 1, invocationID: invocation, status: .success, errorType: nil,
                message: "ok", resumeAt: nil, waitingFor: nil, reportJSON: "{\"wallMs\":1}", logLine: "summary", now: Date())).applied
            XCTAssertTrue(done, backend.rawValue)
            let logs = try await store.logs(deploymentID: id, stageIndex: 0, afterID: 0).map(\.line.line)
            XCTAssertEqual(logs, ["line 0", "line 1", "line 2", "summary"], backend.rawValue)
            let after = try await store.logs(deploymentID: id, stageIndex: nil, afterID: 0)
            let tail = try await store.logs(deploymentID: id, stageIndex: nil, afterID: after[1].id).map(\.line.line)
            XCTAssertEqual(tail, ["line 2", "summary"], backend.rawValue)
            try await store.addApproval(Approval(deploymentID: id, stageIndex: 1, approver: "ana"))
            try await store.addApproval(Approval(deploymentID: id, stageIndex: 1, approver: "ana"))
            let approvals = try await store.approvals(deploymentID: id, stageIndex: 1)
            XCTAssertEqual(approvals.map(\.approver), ["ana"], backend.rawValue)
            let cancelled = try await store.requestCancel(deploymentID: id, rollback: false)
            XCTAssertTrue(cancelled, backend.rawValue)
            try await store.apply([.stage(index: 1, status: .cancelled, message: "cancelled")], to: id, now: Date())
            try await store.apply([.deployment(status: .success, reason: "")], to: id, now: Date())
            let app = try await store.application(named: "web")
            XCTAssertEqual(app?.runningCommit, "c1", backend.rawValue)
            let detail = try await store.deployment(id: id)
            XCTAssertEqual(detail?.stages.map(\.status), [.success, .cancelled], backend.rawValue)
            XCTAssertEqual(detail?.stages.first?.outputs, "{\"k\":\"v\"}", backend.rawValue)
            XCTAssertEqual(detail?.deployment.cancelRequested, true, backend.rawValue)
            let report = try await store.invocations(deploymentID: id, stageIndex: nil).first?.reportJSON
            XCTAssertEqual(report, "{\"wallMs\":1}", backend.rawValue)
        }
    }
}
