import Foundation

/// Glob patterns of `spec.trigger.onCommit.paths` / `ignores`, matched against repository paths, in the
/// spirit of .gitignore:
/// - `*` matches within one path segment, `?` one character, `**` any number of segments;
/// - a pattern without a `/` (other than a trailing one) matches a file or directory name at any depth;
/// - a pattern with a `/` is anchored at the repository root, or at the app's directory;
/// - a pattern that matches a directory matches every file below it (`config/` or `config`).
struct PathGlob: Sendable {
    let pattern: String
    private let segments: [Substring]
    private let anchored: Bool

    init(_ pattern: String) {
        self.pattern = pattern
        var p = pattern.trimmingCharacters(in: .whitespaces)[...]
        while p.hasPrefix("./") { p = p.dropFirst(2) }
        let hadLeadingSlash = p.hasPrefix("/")
        while p.hasPrefix("/") { p = p.dropFirst() }
        while p.hasSuffix("/") { p = p.dropLast() }
        segments = p.split(separator: "/", omittingEmptySubsequences: true)
        anchored = hadLeadingSlash || segments.count > 1
    }

    /// Whether `file` (relative to the repository root) matches, directly or through one of its
    /// directories. `appDirectory` ("" = root) lets anchored patterns be written relative to the app.
    func matches(_ file: String, appDirectory: String = "") -> Bool {
        guard !segments.isEmpty else { return false }
        let parts = file.split(separator: "/", omittingEmptySubsequences: true)
        if !anchored {
            return parts.contains { PathGlob.segmentMatches(Array(segments[0]), Array($0)) }
        }
        if PathGlob.matchPrefix(segments[...], parts[...]) { return true }
        if !appDirectory.isEmpty, file.hasPrefix(appDirectory + "/") {
            let relative = file.dropFirst(appDirectory.count + 1).split(separator: "/", omittingEmptySubsequences: true)
            return PathGlob.matchPrefix(segments[...], relative[...])
        }
        return false
    }

    /// True when the pattern segments match the whole path or a leading run of its segments (a directory).
    private static func matchPrefix(_ pattern: ArraySlice<Substring>, _ path: ArraySlice<Substring>) -> Bool {
        guard let first = pattern.first else { return true }
        if first == "**" {
            let rest = pattern.dropFirst()
            // `**` swallows zero or more segments.
            var i = path.startIndex
            while true {
                if matchPrefix(rest, path[i...]) { return true }
                if i == path.endIndex { return false }
                i += 1
            }
        }
        guard let segment = path.first, segmentMatches(Array(first), Array(segment)) else { return false }
        return matchPrefix(pattern.dropFirst(), path.dropFirst())
    }

    /// `*` and `?` within one segment.
    private static func segmentMatches(_ p: [Character], _ s: [Character]) -> Bool {
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count, p[pi] == "?" || p[pi] == s[si] {
                pi += 1; si += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = si; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
