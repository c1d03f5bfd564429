import Foundation

/// When rounds fall. Round k (from 1) of a check with interval I is due at start + k·I and looks at the window
/// [start + (k−1)·I, start + k·I]; a check has ⌊duration / I⌋ rounds; the stage ends at start + duration. Rounds are
/// slots of time, not ticks of a running process, so an invocation that comes late runs every slot it missed, each
/// over its own window.
public struct RoundSchedule: Sendable {
    public let start: Date
    public let duration: Double

    /// A wake-up may come a little before the time asked for (the time travels as milliseconds).
    static let slack = 0.005

    public init(start: Date, duration: Double) { self.start = start; self.duration = duration }

    public var end: Date { start.addingTimeInterval(duration) }

    public func rounds(interval: Double) -> Int { Int((duration / interval + 1e-9).rounded(.down)) }

    public func due(round: Int, interval: Double) -> Date { start.addingTimeInterval(Double(round) * interval) }

    public func window(round: Int, interval: Double) -> QueryWindow {
        QueryWindow(from: due(round: round - 1, interval: interval), to: due(round: round, interval: interval))
    }

    /// A check's place in the schedule: its id, interval and what it has done so far.
    public struct Slot: Sendable, Equatable {
        public var id: String
        public var interval: Double
        public var done: AnalysisProgress.Check
        public init(id: String, interval: Double, done: AnalysisProgress.Check) {
            self.id = id; self.interval = interval; self.done = done
        }
    }

    /// The rounds due by `now` that have not run, oldest first (ties in the checks' order).
    public func dueRounds(_ slots: [Slot], now: Date) -> [(id: String, round: Int)] {
        var found: [(id: String, round: Int, at: Date, order: Int)] = []
        for (order, slot) in slots.enumerated() where slot.done.finished != true {
            let total = rounds(interval: slot.interval)
            var round = slot.done.rounds + 1
            while round <= total, due(round: round, interval: slot.interval) <= now.addingTimeInterval(Self.slack) {
                found.append((slot.id, round, due(round: round, interval: slot.interval), order))
                round += 1
            }
        }
        return found.sorted { ($0.at, $0.order) < ($1.at, $1.order) }.map { ($0.id, $0.round) }
    }

    /// When the stage has something to do next: the earliest round not yet run, or the end of the duration.
    public func nextWake(_ slots: [Slot]) -> Date {
        let next = slots.compactMap { slot -> Date? in
            guard slot.done.finished != true, slot.done.rounds < rounds(interval: slot.interval) else { return nil }
            return due(round: slot.done.rounds + 1, interval: slot.interval)
        }
        return next.min().map { min($0, end) } ?? end
    }

    /// Whether the stage is over: its duration has passed and every check has run its rounds.
    public func isComplete(_ slots: [Slot], now: Date) -> Bool {
        now.addingTimeInterval(Self.slack) >= end
            && slots.allSatisfy { $0.done.finished == true || $0.done.rounds >= rounds(interval: $0.interval) }
    }
}
