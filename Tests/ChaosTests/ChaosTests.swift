import Foundation
import FunctionKit
import GantrySupport
import KubeSupport
import SQLiteStore
import Store
import XCTest

/// The chaos harness: pipelines of scripted functions run while a seeded driver sends `kill -9` and
/// SIGSTOP/SIGCONT to the server and to functions. A history checker then reads the store and the functions' own
/// side-effect log. `make test` runs a short round; `make chaos` runs 200 events (CHAOS_EVENTS, CHAOS_SEED).
final class ChaosTests: XCTestCase {
    struct Counts { var crashes = 0, pauses = 0, functionKills = 0, functionPauses = 0, pushes = 0, acknowledged = 0 }

    func testRandomCrashesAndPausesLoseNothingAndRepeatNothing() async throws {
        let env = ProcessInfo.processInfo.environment
        let events = env["CHAOS_EVENTS"].flatMap(Int.init) ?? 15
        let seed = env["CHAOS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64(UInt32.max))
        var rng = SplitMix64(seed: seed)
        print("chaos: seed \(seed), \(events) events (rerun with CHAOS_SEED=\(seed) CHAOS_EVENTS=\(events))")

        let marks = try makeTempDir("chaos-marks")
        let effects = marks + "/effects.log"
        let functions: (String) throws -> String = { root in
            try writeScriptFunctions(in: root, [("chaos-step", "stages: [CHAOS_STEP]\ngracePeriod: 1s", """
                cat > /dev/null
                echo "start $GANTRY_DEPLOYMENT_ID $GANTRY_STAGE_INDEX $GANTRY_ATTEMPT $$" >> \(effects)
                echo "{\\"checkpoint\\": {\\"attempt\\": $GANTRY_ATTEMPT}}"
                sleep 0.$((RANDOM % 4))
                echo "done $GANTRY_DEPLOYMENT_ID $GANTRY_STAGE_INDEX $GANTRY_ATTEMPT $$" >> \(effects)
                """)])
        }
        let (git, server, _) = try await launchServer(functionsDir: functions)
        let apps = ["alpha", "beta", "gamma"]
        for app in apps {
            try git.write("\(app)/app.gantry.yaml", """
                apiVersion: gantry.dev/v1
                spec:
                  name: \(app)
                  pipeline:
                    stages:
                      - {name: CHAOS_STEP, retry: {maxAttempts: 5, initialInterval: 100ms}}
                      - {name: CHAOS_STEP, retry: {maxAttempts: 5, initialInterval: 100ms}}
                      - {name: WAIT, with: {duration: 1s}}
                      - {name: CHAOS_STEP, retry: {maxAttempts: 5, initialInterval: 100ms}}
                """)
        }
        var counts = Counts()
        var acknowledged: [(app: String?, commit: String)] = []
        func push(_ app: String?) throws {
            if let app { try git.write("\(app)/version", UUID().uuidString) }
            let (commit, output) = try git.commitAndPush("chaos push")
            counts.pushes += 1
            if output.contains("answered 202") { counts.acknowledged += 1; acknowledged.append((app, commit)) }
        }
        try push(nil)

        for _ in 0..<events {
            switch rng.next() % 5 {
            case 0:
                try push(apps[Int(rng.next() % UInt64(apps.count))])
            case 1:
                server.kill9(); counts.crashes += 1
                try await server.start()
            case 2:
                if let pid = server.process?.processIdentifier {
                    kill(pid, SIGSTOP); counts.pauses += 1
                    try await Task.sleep(nanoseconds: 100_000_000 + rng.next() % 300_000_000)
                    kill(pid, SIGCONT)
                }
            case 3:
                if let pid = runningFunctionPids(effects).randomElement(using: &rng) {
                    kill(pid, SIGSTOP); counts.functionPauses += 1
                    try await Task.sleep(nanoseconds: 100_000_000 + rng.next() % 200_000_000)
                    kill(pid, SIGCONT)
                }
            default:
                if let pid = runningFunctionPids(effects).randomElement(using: &rng) {
                    kill(pid, SIGKILL); counts.functionKills += 1
                }
            }
            try await Task.sleep(nanoseconds: 50_000_000 + rng.next() % 300_000_000)
        }

        // Let everything finish, then stop the server and read what it left.
        _ = try await eventually("every deployment to reach a final state", timeout: 180, interval: 0.2) {
            let all = try await server.deployments()
            return all.allSatisfy(\.isFinal) ? true : nil
        }
        server.stop()
        let store = try SQLiteStore(path: DataLayout.database(server.dataDir))
        XCTAssertEqual(try store.integrityCheck(), "ok")
        let deployments = try await store.deployments(application: nil, limit: 10_000)

        // Every acknowledged push was planned into a deployment for what it touched.
        for push in acknowledged {
            let touched = push.app.map { [$0] } ?? apps
            for app in touched {
                XCTAssertTrue(deployments.contains { $0.deployment.application == app && $0.deployment.commit == push.commit },
                              "acknowledged push \(push.commit.prefix(8)) of \(app) was never deployed (seed \(seed))")
            }
        }
        var stageCount = 0, invocationCount = 0, reinvocations = 0
        for detail in deployments {
            XCTAssertTrue(detail.deployment.status.isFinal, "\(detail.deployment.id) is \(detail.deployment.status) (seed \(seed))")
            let invocations = try await store.invocations(deploymentID: detail.deployment.id, stageIndex: nil)
            invocationCount += invocations.count
            for stage in detail.stages {
                stageCount += 1
                XCTAssertTrue(stage.status.isFinal, "stage \(stage.index) of \(detail.deployment.id) is \(stage.status)")
                let mine = invocations.filter { $0.stageIndex == stage.index }
                reinvocations += max(0, Set(mine.map(\.attempt)).count - 1)
                // Completed exactly once: one invocation's result made the stage SUCCESS.
                if stage.status == .success {
                    XCTAssertEqual(mine.filter { $0.status == "SUCCESS" }.count, 1,
                                   "stage \(stage.index) of \(detail.deployment.id) completed more than once (seed \(seed))")
                }
                // Attempt numbers never go back; recoveries only grow.
                XCTAssertEqual(mine.map(\.attempt), mine.map(\.attempt).sorted(), "attempts went back (seed \(seed))")
                XCTAssertEqual(mine.map(\.recovery), mine.map(\.recovery).sorted(), "recoveries went back (seed \(seed))")
                // Nothing committed by a fenced attempt: the stored checkpoint is from the stage's own attempts.
                if let cp = stage.checkpoint, let attempt = (try? JSONValue.decode(cp))?["attempt"]?.number.map(Int.init) {
                    XCTAssertLessThanOrEqual(attempt, stage.attempt, "checkpoint from a fenced attempt (seed \(seed))")
                }
            }
        }
        // No function process outlives the server.
        _ = try await eventually("no chaos function process to be left", timeout: 10) {
            runningFunctionPids(effects).isEmpty ? true : nil
        }
        print("""
            chaos: seed \(seed): \(counts.crashes) server kills, \(counts.pauses) server pauses, \(counts.functionKills) \
            function kills, \(counts.functionPauses) function pauses, \(counts.pushes) pushes (\(counts.acknowledged) \
            acknowledged), \(deployments.count) deployments, \(stageCount) stages, \(invocationCount) invocations, \
            \(reinvocations) re-invocations
            """)
    }
}

/// Pids from the side-effect log whose process still runs (and is not a zombie).
func runningFunctionPids(_ effects: String) -> [Int32] {
    let text = (try? String(contentsOfFile: effects, encoding: .utf8)) ?? ""
    let pids = Set(text.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int32($0) } })
    return pids.filter { kill($0, 0) == 0 && !isZombie($0) }.sorted()
}
