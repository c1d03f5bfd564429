import Synchronization

/// A server-wide budget of units (bytes here; requests in `InFlightGate`): what webhook requests hold before their
/// signature is checked. Anyone can send those bytes, so without a bound many large unsigned bodies at once would take as much memory as they like;
/// past it a request is turned away (503 with Retry-After) instead.
final class ByteBudget: Sendable {
    let capacity: Int
    private let used = Atomic<Int>(0)

    init(capacity: Int) { self.capacity = capacity }

    /// True when `bytes` fit; the caller then gives them back with `release` exactly once.
    func reserve(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard bytes <= capacity - current else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes,
                                                              ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) { used.subtract(bytes, ordering: .acquiringAndReleasing) }

    var inUse: Int { used.load(ordering: .relaxed) }
}
