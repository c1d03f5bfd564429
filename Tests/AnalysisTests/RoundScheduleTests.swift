import Analysis
import Foundation
import XCTest

/// Rounds are slots of time counted from the checkpointed start: a re-invocation runs exactly the slots after the
/// checkpoint, however late it comes.
final class RoundScheduleTests: XCTestCase {
    let start = Date(timeIntervalSince1970: 1_000_000)
    var schedule: RoundSchedule { RoundSchedule(start: start, duration: 10) }

    func slot(_ id: String, every interval: Double, rounds: Int = 0, failures: Int = 0) -> RoundSchedule.Slot {
        .init(id: id, interval: interval, done: .init(rounds: rounds, failures: failures))
    }

    func testRoundsAreDueAtEachIntervalAndLookAtTheirOwnWindow() {
        XCTAssertEqual(schedule.rounds(interval: 2), 5)
        XCTAssertEqual(schedule.rounds(interval: 3), 3)
        XCTAssertEqual(schedule.window(round: 2, interval: 2), QueryWindow(from: start.addingTimeInterval(2), to: start.addingTimeInterval(4)))
        XCTAssertTrue(schedule.dueRounds([slot("m", every: 2)], now: start.addingTimeInterval(1.9)).isEmpty)
        XCTAssertEqual(schedule.dueRounds([slot("m", every: 2)], now: start.addingTimeInterval(2)).map(\.round), [1])
        // A wake-up a millisecond early (the time travels as milliseconds) still finds its round due.
        XCTAssertEqual(schedule.dueRounds([slot("m", every: 2)], now: start.addingTimeInterval(1.999)).map(\.round), [1])
    }

    func testAResumedStageRunsOnlyTheRoundsAfterItsCheckpointInTimeOrder() {
        let slots = [slot("m", every: 2, rounds: 2), slot("h", every: 3, rounds: 1)]
        // Down from +4s to +9s: every missed slot runs now, oldest first (at one time, in the checks' order), none
        // of the checkpointed ones again.
        let due = schedule.dueRounds(slots, now: start.addingTimeInterval(9))
        XCTAssertEqual(due.map { "\($0.id)#\($0.round)" }, ["m#3", "h#2", "m#4", "h#3"])
        XCTAssertEqual(schedule.nextWake(slots), start.addingTimeInterval(6))
        XCTAssertEqual(schedule.nextWake([slot("m", every: 2, rounds: 3), slot("h", every: 3, rounds: 1)]),
                       start.addingTimeInterval(6), "h's second round at +6s comes before m's fourth at +8s")
    }

    func testTheStageIsCompleteAtTheEndOnceEveryRoundRan() {
        let done = [slot("m", every: 2, rounds: 5), slot("h", every: 3, rounds: 3)]
        XCTAssertEqual(schedule.nextWake(done), start.addingTimeInterval(10))
        XCTAssertFalse(schedule.isComplete(done, now: start.addingTimeInterval(9.5)), "the duration has not passed")
        XCTAssertTrue(schedule.isComplete(done, now: start.addingTimeInterval(10)))
        XCTAssertFalse(schedule.isComplete([slot("m", every: 2, rounds: 4)], now: start.addingTimeInterval(11)))
        XCTAssertTrue(schedule.isComplete([.init(id: "p", interval: 2, done: .init(rounds: 1, finished: true))],
                                          now: start.addingTimeInterval(10)), "a finished check needs no more rounds")
    }
}
