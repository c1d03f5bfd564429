import Foundation

/// Replaces secret values in text by `***`: each value as it is and as its standard base64 (how a secret
/// most often leaks a second time: an HTTP basic-auth header, a dumped kubeconfig, `base64` in a script).
///
/// Logs are redacted line by line, so a value that spans lines (a private key, a kubeconfig) could never match
/// whole: each of its lines is masked on its own, and so is each 76-column line of its base64 as `base64`
/// wraps it. Pieces shorter than `minimumPiece` are left, since masking every "}" or "key:" would blank logs.
public struct Redactor: Sendable {
    public static let mask = "***"
    static let minimumPiece = 6
    /// Longest first, so a value that contains another is masked whole.
    private let patterns: [String]

    /// Empty values are ignored: masking "" would mean masking everything.
    public init(values: [String]) {
        var all = Set<String>()
        for value in values where !value.isEmpty {
            let base64 = Data(value.utf8).base64EncodedString()
            all.insert(value)
            all.insert(base64)
            guard value.contains(where: \.isNewline) || base64.count > Self.base64Wrap else { continue }
            for piece in Self.lines(of: value) + Self.wrapped(base64) where piece.count >= Self.minimumPiece {
                all.insert(piece)
            }
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

    /// GNU coreutils' `base64` wraps at 76 columns.
    static let base64Wrap = 76

    private static func lines(of value: String) -> [String] {
        value.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    private static func wrapped(_ base64: String) -> [String] {
        var pieces: [String] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            pieces.append(String(rest.prefix(base64Wrap)))
            rest = rest.dropFirst(base64Wrap)
        }
        return pieces
    }
}
