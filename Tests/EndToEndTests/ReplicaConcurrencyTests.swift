import Foundation
import GantrySupport
import XCTest

/// A function's `concurrency` limit is counted in the shared store, so it holds across replicas: limit 2 with
/// two replicas is 2 at once, not 2 per replica.
final class ReplicaConcurrencyTests: XCTestCase {
    func testALimitOfTwoHoldsAcrossTwoReplicas() async throws {
        let marks = try makeTempDir("marks")
        // Each invocation holds its place until the test releases all of them.
        let functions = countingFunctions(marks: marks, limit: 2, hold: "while [ ! -e \(marks)/release ]; do sleep 0.05; done")
        let set = try await ReplicaSet.launch(functionsDir: functions)
        defer { set.stopAll() }
        try writeBusyApps(set.git, (1...6).map { "busy-\($0)" })
        let commit = try set.git.commitAndPush("six apps at once").commit
        let seenFile = marks + "/seen"
        func seen() -> [Substring] { ((try? String(contentsOfFile: seenFile, encoding: .utf8)) ?? "").split(separator: "\n") }
        _ = try await eventually("two invocations holding the two places", timeout: 30) { seen().count >= 2 ? true : nil }
        // An observation window, not a synchronisation: both replicas have planned work they prefer, and each would
        // start it within its 2 s preference delay and 1 s slot retry if the limit were counted per replica.
        try await Task.sleep(nanoseconds: 4_000_000_000)
        XCTAssertEqual(seen().count, 2, "a third invocation started while two held the limit: \(seen())")
        FileManager.default.createFile(atPath: marks + "/release", contents: nil)
        _ = try await eventually("all six deployments to finish", timeout: 90) { () -> Bool? in
            let all = try await set.servers[0].deployments().filter { $0.commit == commit }
            return all.count == 6 && all.allSatisfy({ $0.status == "SUCCESS" }) ? true : nil
        }
        let lines = seen()
        let counts = lines.compactMap { $0.split(separator: " ").first.flatMap { Int($0) } }
        XCTAssertEqual(counts.count, 6, "\(lines)")
        XCTAssertEqual(counts.max(), 2, "never 3 at once, and the limit was actually used: \(lines)")
    }
}
