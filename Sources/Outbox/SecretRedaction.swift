/// Replaces every known secret (tokens, signing secrets, URLs that carry a token) in text shown or stored.
public struct SecretRedaction: Sendable {
    let secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so a URL is masked whole before a token inside it.
        self.secrets = Set(secrets.filter { $0.count >= 4 }).sorted { $0.count > $1.count }
    }

    public func apply(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
    }
}
