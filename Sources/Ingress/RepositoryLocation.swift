import Foundation

/// A repository URL reduced to what names the repository, so the many spellings of one remote compare equal:
/// `https://github.com/Octo/App.git`, `git@github.com:octo/app`, `ssh://git@github.com:22/octo/app.git` and
/// `https://user@github.com/octo/app/` are one repository; so are Azure DevOps' https, `v3/` ssh and
/// visualstudio.com forms. Hosted services treat owner and name case-insensitively, so network paths are
/// compared in lower case; local paths keep their case. Parsing is plain string work (it runs for every
/// delivery), except that two local paths that differ are compared once more with symlinks resolved.
public struct RepositoryLocation: Equatable, Sendable, CustomStringConvertible {
    /// `host/path` for network URLs, `file:/abs/path` for local repositories.
    public let key: String

    public var description: String { key }

    public init?(_ text: String) {
        let url = Self.trimmed(text)
        guard !url.isEmpty, !url.utf8.contains(where: { $0 < 0x20 }) else { return nil }
        if let schemeEnd = url.range(of: "://") {
            let scheme = url[..<schemeEnd.lowerBound].lowercased()
            let rest = url[schemeEnd.upperBound...]
            if scheme == "file" {
                // file:///srv/x and file://localhost/srv/x name the local path /srv/x.
                key = Self.localKey(String(rest.drop { $0 != "/" }))
                return
            }
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            guard let host = Self.host(fromAuthority: rest[..<slash]) else { return nil }
            key = Self.networkKey(host: host, path: rest[slash...])
            return
        }
        // scp-like `[user@]host:path`: a colon before any slash (git's own rule).
        if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/"), url.index(after: colon) < url.endIndex {
            let authority = url[..<colon]
            let at = authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex
            let host = authority[at...].lowercased()
            guard host.count > 1 else { return nil }   // "C:" is a drive, not a host
            key = Self.networkKey(host: host, path: url[url.index(after: colon)...])
            return
        }
        key = Self.localKey(url)
    }

    private init(key: String) { self.key = key }

    /// A form safe to show (no user name or password), for "not bound here" reasons.
    public var display: String { key.hasPrefix("file:") ? String(key.dropFirst(5)) : key }

    /// Whether both name one repository; local paths also through symlinks (a hook reports its repository's
    /// physical path, the config may name it through a link).
    public func matches(_ other: RepositoryLocation) -> Bool {
        if key == other.key { return true }
        guard key.hasPrefix("file:"), other.key.hasPrefix("file:") else { return false }
        return resolved().key == other.resolved().key
    }

    private func resolved() -> RepositoryLocation {
        let path = String(key.dropFirst(5))
        for candidate in [path + ".git", path] where FileManager.default.fileExists(atPath: candidate) {
            return RepositoryLocation(key: Self.localKey(URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path))
        }
        return self
    }

    private static func trimmed(_ text: String) -> Substring {
        var t = Substring(text)
        while let c = t.first, c == " " || c == "\t" || c == "\n" || c == "\r" { t.removeFirst() }
        while let c = t.last, c == " " || c == "\t" || c == "\n" || c == "\r" { t.removeLast() }
        return t
    }

    private static func host(fromAuthority authority: Substring) -> String? {
        var hostPort = authority
        if let at = hostPort.lastIndex(of: "@") { hostPort = hostPort[hostPort.index(after: at)...] }
        var host: Substring
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = hostPort[...close]                                      // [::1]:8080
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]                                      // host:port
        } else {
            host = hostPort
        }
        while host.hasSuffix(".") { host = host.dropLast() }
        if host.lowercased().hasPrefix("www.") { host = host.dropFirst(4) }
        return host.isEmpty ? nil : host.lowercased()
    }

    /// Path segments without query, fragment, empty segments and a trailing `.git`.
    private static func segments(_ path: Substring) -> [String] {
        var path = path
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<cut] }
        var parts = path.split(separator: "/").map { part in
            part.contains("%") ? (String(part).removingPercentEncoding ?? String(part)) : String(part)
        }
        if let last = parts.last, last.lowercased().hasSuffix(".git") {
            let name = String(last.dropLast(4))
            if name.isEmpty { parts.removeLast() } else { parts[parts.count - 1] = name }
        }
        return parts
    }

    private static func networkKey(host: String, path: Substring) -> String {
        var host = host
        var parts = segments(path).map { $0.lowercased() }
        // Azure DevOps: dev.azure.com/{org}/{project}/_git/{repo}, {org}.visualstudio.com/{project}/_git/{repo},
        // ssh.dev.azure.com:v3/{org}/{project}/{repo}; "DefaultCollection" and an omitted project
        // (= the repository's name) are older spellings of the same.
        if host == "ssh.dev.azure.com" || host == "vs-ssh.visualstudio.com", parts.first == "v3", parts.count == 4 {
            host = "dev.azure.com"
            parts = [parts[1], parts[2], "_git", parts[3]]
        } else if host == "dev.azure.com" || host.hasSuffix(".visualstudio.com") {
            if host != "dev.azure.com" {
                parts.insert(String(host.dropLast(".visualstudio.com".count)), at: 0)
                host = "dev.azure.com"
            }
            if let git = parts.firstIndex(where: { $0 == "_git" || $0 == "_ssh" }), git + 1 < parts.count {
                let repo = parts[git + 1]
                let owners = parts[..<git].filter { $0 != "defaultcollection" }
                if let org = owners.first { parts = [org, owners.dropFirst().first ?? repo, "_git", repo] }
            }
        }
        return host + "/" + parts.joined(separator: "/")
    }

    /// `file:` + the absolute path with `.`, `..`, repeated and trailing slashes and a `.git` suffix removed.
    private static func localKey(_ path: some StringProtocol) -> String {
        var absolute = String(path)
        if !absolute.hasPrefix("/") { absolute = FileManager.default.currentDirectoryPath + "/" + absolute }
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        if let last = parts.last, last.lowercased().hasSuffix(".git"), last.count > 4 { parts[parts.count - 1] = last.dropLast(4) }
        return "file:/" + parts.joined(separator: "/")
    }
}
