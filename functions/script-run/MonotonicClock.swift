#if canImport(Glibc)
import Glibc
#endif

/// Seconds on CLOCK_MONOTONIC: the script's timeout must not jump when the wall clock is set.
enum MonotonicClock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func timespecFor(_ seconds: Double) -> timespec {
        let s = max(0, seconds)
        let whole = s.rounded(.down)
        return timespec(tv_sec: Int(whole), tv_nsec: Int((s - whole) * 1e9))
    }

    static func sleep(_ seconds: Double) {
        var request = timespecFor(seconds)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
