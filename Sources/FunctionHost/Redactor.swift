import Foundation

/// Replaces secret values in text by `***`: each value as it is and as its standard base64 (how a secret
/// most often leaks a second time: an HTTP basic-auth header, a dumped kubeconfig, `base64` in a script).
public struct Redactor: Sendable {
    public static let mask = "***"
    /// Longest first, so a value that contains another is masked whole.
    private let patterns: [String]

    /// Empty values are ignored: masking "" would mean masking everything.
    public init(values: [String]) {
        var all = Set<String>()
        for value in values where !value.isEmpty {
            all.insert(value)
            all.insert(Data(value.utf8).base64EncodedString())
        }
        patterns = all.sorted { $0.utf8.count != $1.utf8.count ? $0.utf8.count > $1.utf8.count : $0 < $1 }
    }

    public var isEmpty: Bool { patterns.isEmpty }

    public func redact(_ text: String) -> String {
        var out = text
        for pattern in patterns where out.contains(pattern) {
            out = out.replacingOccurrences(of: pattern, with: Self.mask)
        }
        return out
    }

    public func redact(_ lines: [String]) -> [String] {
        isEmpty ? lines : lines.map(redact)
    }
}
