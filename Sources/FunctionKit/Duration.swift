#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Durations as PipeCD and Go write them: "10s", "5m", "1h30m", "250ms", or a bare number of seconds.
public enum DurationText {
    public struct Invalid: Error, CustomStringConvertible {
        public let text: String
        public var description: String { "invalid duration \"\(text)\" (expected e.g. 10s, 5m, 1h30m)" }
    }

    /// Seconds in `text`.
    public static func seconds(_ text: String) throws -> Double {
        // FoundationEssentials has no trimmingCharacters(in:).
        var t = Substring(text)
        while t.first?.isWhitespace == true { t.removeFirst() }
        while t.last?.isWhitespace == true { t.removeLast() }
        if let plain = Double(t), plain >= 0 { return plain }
        var total = 0.0, number = "", unit = "", sawAny = false
        func flush() throws {
            guard let n = Double(number) else { throw Invalid(text: text) }
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86400
            default: throw Invalid(text: text)
            }
            total += n * scale; number = ""; unit = ""; sawAny = true
        }
        for ch in t {
            if ch.isNumber || ch == "." {
                if !unit.isEmpty { try flush() }
                number.append(ch)
            } else if ch.isLetter {
                guard !number.isEmpty else { throw Invalid(text: text) }
                unit.append(ch)
            } else { throw Invalid(text: text) }
        }
        if !number.isEmpty || !unit.isEmpty { try flush() }
        guard sawAny else { throw Invalid(text: text) }
        return total
    }

    /// "1h2m3s" style text for seconds (whole seconds, or milliseconds under one second; used in messages).
    public static func format(_ seconds: Double) -> String {
        if seconds > 0 && seconds < 0.9995 { return "\(Int((seconds * 1000).rounded()))ms" }
        var s = Int(seconds.rounded(.up)); if s < 0 { s = 0 }
        let h = s / 3600, m = (s % 3600) / 60, r = s % 60
        var out = ""
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if r > 0 || out.isEmpty { out += "\(r)s" }
        return out
    }
}

/// RFC 3339 timestamps in UTC with milliseconds, the protocol's time format.
public enum RFC3339 {
    /// Rounded to the millisecond (the formatter truncates, which made "start + 10 s" print as 9.999 s).
    public static func format(_ date: Date) -> String {
        let ms = (date.timeIntervalSinceReferenceDate * 1000).rounded()
        return Date(timeIntervalSinceReferenceDate: (ms + 0.5) / 1000)
            .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
    public static func parse(_ text: String) -> Date? {
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return d }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
