import Foundation

/// Memory sizes as Kubernetes writes them: "256Mi", "1Gi", "500M", or a bare number of bytes.
enum ByteSize {
    struct Invalid: Error, CustomStringConvertible {
        let text: String
        var description: String { "invalid size \"\(text)\" (expected e.g. 64Mi, 1Gi, 500M or a number of bytes)" }
    }

    private static let units: [String: UInt64] = [
        "": 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
        "k": 1_000, "K": 1_000, "M": 1_000_000, "G": 1_000_000_000, "T": 1_000_000_000_000,
    ]

    /// Bytes in `text`.
    static func bytes(_ text: String) throws -> UInt64 {
        let t = text.trimmingCharacters(in: .whitespaces)
        let digits = t.prefix { $0.isNumber || $0 == "." }
        let unit = String(t.dropFirst(digits.count))
        guard !digits.isEmpty, let number = Double(digits), let scale = units[unit] else { throw Invalid(text: text) }
        let value = number * Double(scale)
        guard value.isFinite, value >= 1, value < Double(UInt64.max) else { throw Invalid(text: text) }
        return UInt64(value)
    }

    /// "256Mi" style text for messages: the largest binary unit that divides the value, else bytes.
    static func format(_ bytes: UInt64) -> String {
        for (unit, scale) in [("Ti", UInt64(1) << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)]
        where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(unit)"
        }
        return "\(bytes) bytes"
    }
}
