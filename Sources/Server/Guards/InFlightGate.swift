import Synchronization

/// Counts webhook requests being handled; past the limit a request is turned away at once (503 with
/// Retry-After) instead of queueing behind the others, so a flood cannot pile up memory or latency.
final class InFlightGate: Sendable {
    let limit: Int
    private let current = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// True when the caller may proceed; it must then call `leave()` exactly once.
    func enter() -> Bool {
        let now = current.add(1, ordering: .acquiringAndReleasing).newValue
        if now <= limit { return true }
        current.subtract(1, ordering: .acquiringAndReleasing)
        return false
    }

    func leave() { current.subtract(1, ordering: .acquiringAndReleasing) }

    var inFlight: Int { current.load(ordering: .relaxed) }
}
