import Foundation
import Ingress
import XCTest

/// A lone delivery wakes the planner at once; a burst wakes it a few times, the last after the last delivery.
final class WakeupThrottleTests: XCTestCase {
    final class Wakes: @unchecked Sendable {
        private let lock = NSLock()
        private var times: [ContinuousClock.Instant] = []
        func add() { lock.lock(); times.append(.now); lock.unlock() }
        var all: [ContinuousClock.Instant] { lock.lock(); defer { lock.unlock() }; return times }
    }

    func testALoneSignalWakesAtOnceAndABurstIsCoalesced() async throws {
        let wakes = Wakes()
        let throttle = WakeupThrottle(interval: .milliseconds(100)) { wakes.add() }
        throttle.signal()
        XCTAssertEqual(wakes.all.count, 1, "the first signal wakes synchronously")

        var lastSignal = ContinuousClock.now
        for _ in 0..<1000 { throttle.signal(); lastSignal = .now }
        let deadline = ContinuousClock.now + .seconds(5)
        while wakes.all.count < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(250))   // long enough for any wake-up still owed
        let all = wakes.all
        XCTAssertEqual(all.count, 2, "1,000 signals within one interval: one more wake-up, at its end")
        XCTAssertGreaterThanOrEqual(all[1], lastSignal, "the burst's last signal is covered")
        XCTAssertGreaterThanOrEqual(all[1] - all[0], .milliseconds(90))
    }
}
