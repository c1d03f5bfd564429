import Foundation

/// When a failed attempt is tried again: exponential backoff with jitter, never before the receiver's own
/// `Retry-After`, and dead-lettered after `maxAttempts`.
public struct OutboxRetry: Sendable {
    public var maxAttempts: Int
    public var initialInterval: Double
    public var maxInterval: Double

    public init(maxAttempts: Int = 10, initialInterval: Double = 1, maxInterval: Double = 300) {
        self.maxAttempts = maxAttempts; self.initialInterval = initialInterval; self.maxInterval = maxInterval
    }

    /// `attempts` counts the one that just failed. Jitter takes the delay down to half at random, so receivers
    /// that failed together are not all retried in one instant.
    public func delay(afterAttempts attempts: Int, retryAfter: Double?, random: Double = .random(in: 0.5...1)) -> Double {
        let exponential = min(maxInterval, initialInterval * pow(2, Double(max(0, attempts - 1))))
        return max(exponential * random, retryAfter ?? 0)
    }

    public func deadLetters(afterAttempts attempts: Int) -> Bool { attempts >= maxAttempts }

    /// `Retry-After` as seconds or an HTTP date (RFC 9110), relative to `now`.
    public static func retryAfter(_ value: String?, now: Date) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return format.date(from: value).map { max(0, $0.timeIntervalSince(now)) }
    }
}
