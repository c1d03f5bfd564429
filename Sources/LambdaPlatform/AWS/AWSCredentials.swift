import Foundation

/// An access key, with a session token when it is temporary.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID; self.secretAccessKey = secretAccessKey; self.sessionToken = sessionToken
    }
}

/// Where a platform's credentials come from: the server config's `credentials:` (docs/server-config.md,
/// "platforms").
/// - `env`: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN;
/// - `profile:NAME`: that profile of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
///   `~/.aws/credentials` of the user the server runs as);
/// - `file:PATH`: a file in the same format, profile `default` (or `file:PATH#PROFILE`).
public enum CredentialSource: Sendable, Equatable {
    case environment
    case profile(String)
    case file(path: String, profile: String)

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public init(_ text: String?) throws {
        let t = text ?? "env"
        if t == "env" || t.isEmpty { self = .environment; return }
        if t.hasPrefix("profile:"), t.count > 8 { self = .profile(String(t.dropFirst(8))); return }
        if t.hasPrefix("file:"), t.count > 5 {
            let rest = t.dropFirst(5)
            if let hash = rest.lastIndex(of: "#") {
                self = .file(path: String(rest[..<hash]), profile: String(rest[rest.index(after: hash)...]))
            } else {
                self = .file(path: String(rest), profile: "default")
            }
            return
        }
        throw Problem("credentials \"\(t)\" is not one of env, profile:NAME, file:PATH")
    }

    /// - Parameters:
    ///   - environment: the function's environment (the host passes the names function.yaml declares).
    ///   - homeDirectory: the server user's home; $HOME is the invocation directory inside a function.
    public func resolve(environment: [String: String], homeDirectory: String) throws -> AWSCredentials {
        switch self {
        case .environment:
            guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty else {
                throw Problem("credentials env: AWS_ACCESS_KEY_ID is not set in the server's environment")
            }
            guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
                throw Problem("credentials env: AWS_SECRET_ACCESS_KEY is not set in the server's environment")
            }
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
        case .profile(let name):
            let path = environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 }
                ?? homeDirectory + "/.aws/credentials"
            return try Self.read(path: path, profile: name, what: "credentials profile:\(name)")
        case .file(let path, let profile):
            return try Self.read(path: path, profile: profile, what: "credentials file:\(path)")
        }
    }

    static func read(path: String, profile: String, what: String) throws -> AWSCredentials {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem("\(what): cannot read \(path)")
        }
        let profiles = SharedCredentialsFile.parse(String(decoding: data, as: UTF8.self))
        guard let values = profiles[profile] else {
            let known = profiles.keys.sorted().joined(separator: ", ")
            throw Problem("\(what): \(path) has no profile [\(profile)]" + (known.isEmpty ? "" : " (it has \(known))"))
        }
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else {
            throw Problem("\(what): profile [\(profile)] in \(path) needs aws_access_key_id and aws_secret_access_key")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: values["aws_session_token"])
    }
}

/// The INI format of `~/.aws/credentials`: `[profile]` sections of `key = value` lines, `#` and `;` comments.
/// Lines before any section belong to `default`.
enum SharedCredentialsFile {
    static func parse(_ text: String) -> [String: [String: String]] {
        var profiles: [String: [String: String]] = [:]
        var current = "default"
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                // ~/.aws/config spells sections "[profile NAME]"; accept that spelling too.
                if name.hasPrefix("profile ") { name = name.dropFirst(8).trimmingCharacters(in: .whitespaces) }
                current = name
                profiles[current, default: [:]] = profiles[current] ?? [:]
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            profiles[current, default: [:]][key] = value
        }
        return profiles
    }
}
