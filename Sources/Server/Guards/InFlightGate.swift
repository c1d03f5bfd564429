/// Counts webhook requests being handled; past the limit a request is turned away at once (503 with
/// Retry-After) instead of queueing behind the others, so a flood cannot pile up memory or latency.
/// A budget whose every request weighs one.
final class InFlightGate: Sendable {
    private let budget: ByteBudget

    init(limit: Int) { budget = ByteBudget(capacity: limit) }

    var limit: Int { budget.capacity }

    /// True when the caller may proceed; it must then call `leave()` exactly once.
    func enter() -> Bool { budget.reserve(1) }

    func leave() { budget.release(1) }

    var inFlight: Int { budget.inUse }
}
