import Foundation

/// A repository URL reduced to what names the repository, so the many spellings of one remote compare equal:
/// `https://github.com/Octo/App.git`, `git@github.com:octo/app`, `ssh://git@github.com:22/octo/app.git` and
/// `https://user@github.com/octo/app/` are one repository; so are Azure DevOps' https, `v3/` ssh and
/// visualstudio.com forms. Hosted services treat owner and name case-insensitively, so network paths are
/// compared in lower case; local paths keep their case.
public struct RepositoryLocation: Equatable, Sendable, CustomStringConvertible {
    /// `host/path` for network URLs, `file:/abs/path` for local repositories.
    public let key: String

    public var description: String { key }

    public init?(_ text: String) {
        let url = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !url.isEmpty, !url.contains(where: { $0.isNewline || $0 == "\0" }) else { return nil }
        if let schemeEnd = url.range(of: "://") {
            let scheme = url[..<schemeEnd.lowerBound].lowercased()
            let rest = String(url[schemeEnd.upperBound...])
            if scheme == "file" {
                // file:///srv/x and file://localhost/srv/x name the local path /srv/x.
                let path = rest.drop { $0 != "/" }
                key = Self.localKey(String(path))
                return
            }
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            guard let host = Self.host(fromAuthority: String(rest[..<slash])) else { return nil }
            key = Self.networkKey(host: host, path: String(rest[slash...]))
            return
        }
        // scp-like `[user@]host:path`: a colon before any slash (git's own rule).
        if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/"), url[url.index(after: colon)...].first != nil {
            let authority = String(url[..<colon])
            let at = authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex
            let host = String(authority[at...]).lowercased()
            guard !host.isEmpty, host.count > 1 else { return nil }   // "C:" is a drive, not a host
            key = Self.networkKey(host: host, path: String(url[url.index(after: colon)...]))
            return
        }
        key = Self.localKey(url)
    }

    /// A form safe to show (no user name or password), for "not bound here" reasons.
    public var display: String { key.hasPrefix("file:") ? String(key.dropFirst(5)) : key }

    private static func host(fromAuthority authority: String) -> String? {
        var hostPort = authority
        if let at = hostPort.lastIndex(of: "@") { hostPort = String(hostPort[hostPort.index(after: at)...]) }
        var host: String
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = String(hostPort[...close])                              // [::1]:8080
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])                              // host:port
        } else {
            host = hostPort
        }
        host = host.lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        if host.hasPrefix("www.") { host = String(host.dropFirst(4)) }
        return host.isEmpty ? nil : host
    }

    private static func segments(_ path: String) -> [String] {
        var path = path
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<cut]) }
        var parts = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        if var last = parts.last {
            if last.lowercased().hasSuffix(".git") { last = String(last.dropLast(4)) }
            parts[parts.count - 1] = last
            if last.isEmpty { parts.removeLast() }
        }
        return parts
    }

    private static func networkKey(host: String, path: String) -> String {
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

    private static func localKey(_ path: String) -> String {
        // A hook reports its repository's physical path; the config may name it through a symlink.
        var standardized = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        while standardized.count > 1, standardized.hasSuffix("/") { standardized.removeLast() }
        if standardized.lowercased().hasSuffix(".git"), standardized.count > 4 { standardized.removeLast(4) }
        return "file:" + standardized
    }
}
