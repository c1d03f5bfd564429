/// Git remotes and API addresses often carry a token as their user-info (`https://user:token@host/...`). Every
/// command line and error that is logged, stored or returned goes through `redact` first.
public enum URLCredentials {
    /// `text` with the user-info of every `scheme://user-info@host` in it replaced by `***`.
    public static func redact(_ text: String) -> String {
        guard text.contains("@"), text.firstRange(of: "://") != nil else { return text }
        var out = ""
        var rest = Substring(text)
        while let scheme = rest.firstRange(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            // The authority ends at the first '/', '?', '#' or blank; user-info is what comes before its last '@'.
            let authority = rest.prefix { !"/?#".contains($0) && !$0.isWhitespace && $0 != "\"" && $0 != "'" }
            if let at = authority.lastIndex(of: "@") {
                out += "***"
                rest = rest[at...]
            }
        }
        return out + rest
    }
}
