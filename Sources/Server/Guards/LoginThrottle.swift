import Digest
import Foundation
import Synchronization

/// Failed logins per user name and per client address within a sliding window (5 a minute): past that, a login
/// is refused (429 with Retry-After) before its password is checked, so guessing is slow whichever way it is
/// spread. An attempt is counted when it starts, not when its bcrypt check fails, so parallel guesses count too;
/// a successful one is taken back. Memory is bounded: expired entries are pruned, and past `maxKeys` names and
/// addresses the ones idle longest are forgotten.
final class LoginThrottle: Sendable {
    let limit: Int
    let window: Double
    let maxKeys: Int
    private let now: @Sendable () -> Double
    /// Key to the times of its counted attempts, oldest first.
    private let attempts = Mutex<[String: [Double]]>([:])

    init(limit: Int = 5, window: Double = 60, maxKeys: Int = 10_000,
         now: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.limit = limit; self.window = window; self.maxKeys = maxKeys; self.now = now
    }

    /// The keys one attempt counts against. A name is the sender's text of any length: a long one is kept as its
    /// digest.
    static func keys(name: String, client: String) -> [String] {
        let nameKey = name.utf8.count <= 128 ? name : Digest.sha256Hex(name)
        return ["name:" + nameKey, "client:" + String(client.prefix(64))]
    }

    enum Admission: Equatable {
        /// Go ahead; pass the ticket to `succeeded` if the password was right.
        case admitted(ticket: Double)
        /// Refused: seconds until the oldest counted attempt leaves the window.
        case refused(retryAfter: Int)
    }

    func admit(_ keys: [String]) -> Admission {
        let t = now()
        return attempts.withLock { table in
            var wait = 0.0
            for key in keys {
                let recent = (table[key] ?? []).filter { $0 > t - window }
                table[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit { wait = max(wait, recent[recent.count - limit] + window - t) }
            }
            if wait > 0 { return .refused(retryAfter: max(1, Int(wait.rounded(.up)))) }
            for key in keys { table[key, default: []].append(t) }
            if table.count > maxKeys { Self.prune(&table, before: t - window, keep: maxKeys) }
            return .admitted(ticket: t)
        }
    }

    /// The attempt was a right password: it does not count.
    func succeeded(_ keys: [String], ticket: Double) {
        attempts.withLock { table in
            for key in keys {
                guard var times = table[key], let i = times.lastIndex(of: ticket) else { continue }
                times.remove(at: i)
                table[key] = times.isEmpty ? nil : times
            }
        }
    }

    var trackedKeys: Int { attempts.withLock { $0.count } }

    private static func prune(_ table: inout [String: [Double]], before cutoff: Double, keep: Int) {
        table = table.filter { $0.value.last.map { $0 > cutoff } ?? false }
        guard table.count > keep else { return }
        // Still too many within the window: forget the half idle longest (their counts restart).
        let byLast = table.sorted { ($0.value.last ?? 0) < ($1.value.last ?? 0) }
        for (key, _) in byLast.prefix(table.count - keep / 2) { table[key] = nil }
    }
}
