import Foundation
import FunctionKit
import Outbox
import RepositoryYAML
import Store
import Yams

/// `gantry.yaml` (docs/server-config.md). Field names are the contract; unknown fields are ignored so a config
/// written for a later version still starts.
public struct ServerConfig: Codable, Sendable {
    public struct Server: Codable, Sendable {
        public var listen: String = "127.0.0.1:8080"
        public var dataDir: String = "./.gantry"
        public var database: String? = "sqlite"
        public var tokens: [Token]? = []
        /// Largest webhook body read, in bytes (checked before reading).
        public var maxBodyBytes: Int? = nil
        /// Largest request head (request line and all headers), in bytes: 431 beyond it.
        public var maxHeaderBytes: Int? = nil
        /// Webhook requests being handled at once; beyond it 503 with Retry-After.
        public var maxInFlightHooks: Int? = nil
        /// Bytes all webhook requests together may hold before their signature is checked (default 64 MiB, at least
        /// maxBodyBytes); beyond it 503 with Retry-After.
        public var maxUnverifiedBytes: Int? = nil
        /// More names (`host` or `host:port`) this server answers to and whose pages may post to it, besides its listen
        /// address, loopback names and externalURL's host.
        public var allowedHosts: [String]? = nil
        /// From connection (or the previous response) until the request head is complete (default 10s).
        public var headerTimeout: String? = nil
        /// From the request head until its body is complete (default 30s): a trickling client is cut off.
        public var requestTimeout: String? = nil
        /// Replicas on PostgreSQL: how long a stage lease lasts unrenewed (default 10s): a replica that dies or
        /// stops loses its stages to the others after this.
        public var leaseDuration: String? = nil
        /// Replicas on PostgreSQL: the longest the engine sleeps without a wake-up (default 5s), the safety net for a
        /// notification lost with a replica's connection.
        public var sweepInterval: String? = nil
        /// How functions and outside systems reach this server (`$GANTRY_CALLBACK_URL`), e.g. the replicas' Service
        /// or a public https URL; default: the listen address (a wildcard host becomes loopback).
        public var externalURL: String? = nil
        public init() {}
    }
    /// `role`: viewer, editor or admin (default admin, so tokens written before roles keep every right).
    public struct Token: Codable, Sendable { public var name: String; public var secret: String; public var role: String? = nil }
    /// A user who logs in to the web UI: the static admin is one with `role: admin`. `passwordHash` is a bcrypt
    /// hash (`gantry hash-password`), inline or as an `env:`/`file:` reference.
    public struct User: Codable, Sendable { public var name: String; public var passwordHash: String; public var role: String? = nil }
    public struct Webhook: Codable, Sendable {
        public var binding: String
        public var provider: String? = "github"
        public var secrets: [String]? = []
        /// GitHub only: also accept the SHA-1 X-Hub-Signature.
        public var allowSHA1: Bool? = false
    }
    public struct Repository: Codable, Sendable {
        public var id: String
        public var remote: String
        public var branch: String? = "main"
        public var webhook: Webhook?
        /// How often `git ls-remote` checks the branch for pushes whose webhook never arrived (default 5m; 0 disables).
        public var reconcile: String? = nil
        /// Commit statuses for this repository's deployments, sent through the outbox.
        public var status: CommitStatusConfig? = nil
    }
    public struct Functions: Codable, Sendable {
        public var paths: [String]? = []
        /// Who functions run as: a user name, a uid or `UID:GID`. Default `nobody` when the server runs as root,
        /// else the server's own user.
        public var user: String? = nil
        /// `required` (the default): every invocation runs in its own mount namespace without the server's files,
        /// as `user`, and the server refuses to start where that cannot be set up. `off`: functions run as the
        /// server, seeing what it sees.
        public var isolation: String? = nil
        /// Paths every function still sees where isolation would hide them (under /tmp), writable as their
        /// permissions allow: a shared folder, an agent's socket, `/tmp` itself. Never inside the data dir.
        public var keep: [String]? = nil
        public init() {}
    }
    /// A secret functions may declare: delivered as a file, never in the environment, redacted from logs.
    public struct Secret: Codable, Sendable {
        public var name: String
        public var value: String
    }
    public struct Platform: Codable, Sendable {
        public var name: String
        public var kind: String
    }

    public var server: Server = Server()
    public var repositories: [Repository]? = []
    public var functions: Functions? = nil
    /// Kept as raw values too: every key of a platform entry goes to its functions as `platform`.
    public var platforms: [Platform]? = []
    public var secrets: [Secret]? = []
    public var users: [User]? = []
    /// Metrics providers the ANALYSIS stage queries (PipeCD piped's `analysisProviders:`).
    public var analysisProviders: [AnalysisProvider]? = []
    /// piped's `secretManagement`: the key pair whose public half seals secrets kept in Git (`gantry encrypt`) and
    /// whose private half the planner opens them with, into a deployment's own sources.
    public var secretManagement: SecretManagement? = nil
    /// piped's `notifications:`: routes and receivers (docs/notifications.md).
    public var notifications: NotificationsConfig? = nil
    /// How the outbox sender retries (docs/notifications.md).
    public var outbox: OutboxConfig? = nil

    public struct SecretManagement: Codable, Sendable {
        public var type: String? = "KEY_PAIR"
        public var config: KeyPair
        public struct KeyPair: Codable, Sendable {
            public var privateKeyFile: String
            /// Derived from the private key when left out.
            public var publicKeyFile: String? = nil
        }
    }

    public init() {}

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads and checks a config file; relative paths in it are relative to the file's directory.
    public static func load(path: String) throws -> (ServerConfig, rawPlatforms: [JSONValue]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Invalid(description: "cannot read config file \(path)")
        }
        var config: ServerConfig
        do {
            config = try YAMLDecoder().decode(ServerConfig.self, from: text)
        } catch let error as YamlError {
            throw Invalid(description: "\(path): \(error)")
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw Invalid(description: "\(path): missing \(ctx.codingPath.map(\.stringValue).joined(separator: ".")).\(key.stringValue)")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw Invalid(description: "\(path): wrong type at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw Invalid(description: "\(path): \(error)")
        }
        let base = (path as NSString).deletingLastPathComponent
        config.server.dataDir = absolute(config.server.dataDir, base: base)
        if let paths = config.functions?.paths { config.functions?.paths = paths.map { absolute($0, base: base) } }
        if let keep = config.functions?.keep { config.functions?.keep = keep.map { absolute($0, base: base) } }
        if let keys = config.secretManagement?.config {
            config.secretManagement?.config.privateKeyFile = absolute(keys.privateKeyFile, base: base)
            config.secretManagement?.config.publicKeyFile = keys.publicKeyFile.map { absolute($0, base: base) }
        }
        // Every key of a platform entry, typed as YAML reads it, not only the ones `Platform` decodes.
        let raw: [JSONValue]
        do { raw = try YAMLField.document(text, file: path).field("platforms").items().compactMap(\.json) } catch {
            throw Invalid(description: "\(error)")
        }
        try config.validate()
        return (config, raw)
    }

    func validate() throws {
        var bindings = Set<String>(), ids = Set<String>()
        for repo in repositories ?? [] {
            guard ids.insert(repo.id).inserted else { throw Invalid(description: "repository id \(repo.id) appears twice") }
            if let hook = repo.webhook {
                guard bindings.insert(hook.binding).inserted else {
                    throw Invalid(description: "webhook binding \(hook.binding) appears twice")
                }
                if (hook.secrets ?? []).isEmpty {
                    throw Invalid(description: "webhook binding \(hook.binding) has no secret: refusing to start (an unsigned hook would accept anyone's push)")
                }
            }
        }
        for (name, text) in [("server.headerTimeout", server.headerTimeout), ("server.requestTimeout", server.requestTimeout),
                             ("server.leaseDuration", server.leaseDuration), ("server.sweepInterval", server.sweepInterval),
                             ("outbox.initialInterval", outbox?.initialInterval), ("outbox.maxInterval", outbox?.maxInterval),
                             ("outbox.timeout", outbox?.timeout), ("outbox.sweepInterval", outbox?.sweepInterval)]
            + (repositories ?? []).map({ ("repositories[\($0.id)].reconcile", $0.reconcile) }) {
            guard let text else { continue }
            do { _ = try DurationText.seconds(text) } catch { throw Invalid(description: "\(name): \(error)") }
        }
        if let attempts = outbox?.maxAttempts, attempts < 1 {
            throw Invalid(description: "outbox.maxAttempts must be at least 1, not \(attempts)")
        }
        // A zero sweep would turn the engine's sleep into a busy loop.
        if let text = server.sweepInterval, let seconds = try? DurationText.seconds(text), seconds <= 0 {
            throw Invalid(description: "server.sweepInterval must be positive, not \(text)")
        }
        for (name, value) in [("server.maxBodyBytes", server.maxBodyBytes), ("server.maxHeaderBytes", server.maxHeaderBytes),
                              ("server.maxInFlightHooks", server.maxInFlightHooks)] {
            if let value, value <= 0 { throw Invalid(description: "\(name) must be positive, not \(value)") }
        }
        if let budget = server.maxUnverifiedBytes {
            let body = server.maxBodyBytes ?? IngressLimits.defaultMaxBodyBytes
            guard budget >= body else {
                throw Invalid(description: "server.maxUnverifiedBytes (\(budget)) must be at least maxBodyBytes (\(body)): no webhook would fit")
            }
        }
        for host in server.allowedHosts ?? [] where OriginPolicy.address(host) == nil {
            throw Invalid(description: "server.allowedHosts: \(host) is not a host name or host:port")
        }
        for (what, role) in (server.tokens ?? []).map({ ("token \($0.name)", $0.role) }) + (users ?? []).map({ ("user \($0.name)", $0.role) }) {
            if let role, Role(rawValue: role) == nil { throw Invalid(description: "\(what): role \(role) is not viewer, editor or admin") }
        }
        var userNames = Set<String>()
        for user in users ?? [] where !userNames.insert(user.name).inserted {
            throw Invalid(description: "user \(user.name) appears twice")
        }
        guard HostPort(server.listen) != nil else { throw Invalid(description: "server.listen \(server.listen) is not host:port") }
        if let url = server.externalURL {
            guard let u = URLComponents(string: url), ["http", "https"].contains(u.scheme ?? ""), !(u.host ?? "").isEmpty,
                  u.query == nil else {
                throw Invalid(description: "server.externalURL \(url) is not an http(s) URL without a query")
            }
        }
        if let type = secretManagement?.type, type != "KEY_PAIR" {
            throw Invalid(description: "secretManagement.type must be KEY_PAIR, not \(type)")
        }
        if let mode = functions?.isolation, !["required", "off"].contains(mode) {
            throw Invalid(description: "functions.isolation must be required or off, not \(mode)")
        }
        try validateAnalysisProviders()
        // server.database is checked when the store opens (StoreSelection): an env:/file: URL resolves only then.
    }

    static func absolute(_ path: String, base: String) -> String {
        if path.hasPrefix("/") { return path }
        let joined = (base.isEmpty ? FileManager.default.currentDirectoryPath : base) + "/" + path
        return URL(fileURLWithPath: joined).standardizedFileURL.path
    }
}

extension ServerConfig {
    /// Every `file:` secret the config references (API tokens, webhook secrets, `secrets:`, password hashes, the
    /// database URL): hidden from functions, which get the secrets they declare as files of their own. A platform
    /// entry's files are not among them: its functions read those.
    public var secretFiles: [String] {
        var references = (server.tokens ?? []).map(\.secret) + (users ?? []).map(\.passwordHash)
            + (secrets ?? []).map(\.value) + (repositories ?? []).flatMap { $0.webhook?.secrets ?? [] }
            + (repositories ?? []).flatMap { $0.status?.secretReferences ?? [] }
            + (notifications?.receivers ?? []).flatMap { [$0.webhook?.secret, $0.slack?.hookURL].compactMap { $0 } }
        if let database = server.database { references.append(database) }
        return references.filter { $0.hasPrefix("file:") }.map { String($0.dropFirst(5)) } + analysisProviderSecretFiles
            + (secretManagement.map { [$0.config.privateKeyFile] } ?? [])
    }
}

extension ServerConfig.Server {
    /// The base URL functions call back on: `externalURL`, or the listen address with a wildcard host made loopback
    /// (a function runs on this machine).
    public var apiURL: String {
        if let url = externalURL { return url.hasSuffix("/") ? String(url.dropLast()) : url }
        guard let hp = HostPort(listen) else { return "http://\(listen)" }
        let host = ["0.0.0.0", ""].contains(hp.host) ? "127.0.0.1" : hp.host == "::" || hp.host == "[::]" ? "[::1]" : hp.host
        return "http://\(host):\(hp.port)"
    }
}

public struct HostPort: Sendable {
    public var host: String
    public var port: Int
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        host = String(text[..<colon]); self.port = port
        if host.isEmpty { host = "0.0.0.0" }
    }
}

/// `env:NAME`, `file:PATH` or (for local trials only) the value itself.
public enum SecretReference {
    public struct Unresolved: Error, CustomStringConvertible { public let description: String }

    public static func resolve(_ reference: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if reference.hasPrefix("env:") {
            let name = String(reference.dropFirst(4))
            guard let v = environment[name], !v.isEmpty else {
                throw Unresolved(description: "environment variable \(name) is not set")
            }
            return v
        }
        if reference.hasPrefix("file:") {
            let path = String(reference.dropFirst(5))
            guard let v = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw Unresolved(description: "cannot read secret file \(path)")
            }
            // A trailing newline from `echo secret > file` is not part of the secret.
            let trimmed = v.hasSuffix("\n") ? String(v.dropLast()) : v
            guard !trimmed.isEmpty else { throw Unresolved(description: "secret file \(path) is empty") }
            return trimmed
        }
        return reference
    }
}
