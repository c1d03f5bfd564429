import Engine
import Foundation
import FunctionHost
import FunctionKit

/// `analysisProviders:` (docs/server-config.md), PipeCD piped's list of metrics providers the ANALYSIS stage
/// queries. The server checks the entries at start and hands them to the functions that declare
/// `serverConfig: [analysisProviders]`; their credentials travel as secrets (files), never in the event.
public struct AnalysisProvider: Codable, Sendable {
    public var name: String
    public var type: String
    public var config: Settings?

    public struct Settings: Codable, Sendable {
        public var address: String?
        /// Basic auth: `username` as text, `password` as a secret reference (`env:NAME`, `file:PATH`).
        public var username: String?
        public var password: String?
        /// `Authorization: Bearer`, a secret reference.
        public var bearerToken: String?
        /// PipeCD's spelling of basic auth: files holding the user name and the password.
        public var usernameFile: String?
        public var passwordFile: String?
        /// One query at most (default 30s).
        public var timeout: String?
    }

    static let supportedTypes = ["PROMETHEUS"]
    static let section = "analysisProviders"
}

extension ServerConfig {
    /// The problems with `analysisProviders:` that refuse a start: names, types, addresses and durations.
    func validateAnalysisProviders() throws {
        var names = Set<String>()
        for provider in analysisProviders ?? [] {
            let what = "analysisProviders[\(provider.name)]"
            guard SecretName.isValid(provider.name) else {
                throw Invalid(description: "\(what): a provider name holds letters, digits, '.', '_' and '-', not starting with '.'")
            }
            guard names.insert(provider.name).inserted else { throw Invalid(description: "\(what) appears twice") }
            guard AnalysisProvider.supportedTypes.contains(provider.type) else {
                throw Invalid(description: "\(what): type \(provider.type) is not supported (supported: \(AnalysisProvider.supportedTypes.joined(separator: ", ")))")
            }
            guard let address = provider.config?.address, let url = URLComponents(string: address),
                  ["http", "https"].contains(url.scheme ?? ""), !(url.host ?? "").isEmpty else {
                throw Invalid(description: "\(what): config.address must be an http(s) URL")
            }
            if let timeout = provider.config?.timeout {
                do { _ = try DurationText.seconds(timeout) } catch { throw Invalid(description: "\(what).config.timeout: \(error)") }
            }
            if provider.config?.username != nil && provider.config?.usernameFile != nil {
                throw Invalid(description: "\(what): give username or usernameFile, not both")
            }
            if provider.config?.password != nil && provider.config?.passwordFile != nil {
                throw Invalid(description: "\(what): give password or passwordFile, not both")
            }
        }
    }

    /// The `file:` references among the providers' credentials: hidden from functions like every secret file.
    var analysisProviderSecretFiles: [String] {
        (analysisProviders ?? []).flatMap { p -> [String] in
            let c = p.config
            return [c?.password, c?.bearerToken].compactMap { $0 }.filter { $0.hasPrefix("file:") }.map { String($0.dropFirst(5)) }
                + [c?.usernameFile, c?.passwordFile].compactMap { $0 }
        }
    }

    /// The section as functions receive it: each provider with its credentials resolved now (an unresolvable one
    /// refuses the start) and replaced by `{"secret": NAME}`, the secrets beside it.
    func analysisProvidersSection(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfigSection {
        var secrets: [String: String] = [:]
        var entries: [JSONValue] = []
        for provider in analysisProviders ?? [] {
            let c = provider.config
            func resolve(_ reference: String?, file: String?, key: String) throws -> JSONValue? {
                guard let reference = reference ?? file.map({ "file:" + $0 }) else { return nil }
                let value: String
                do { value = try SecretReference.resolve(reference, environment: environment) } catch {
                    throw Invalid(description: "analysisProviders[\(provider.name)].config.\(key): \(error)")
                }
                let name = "\(AnalysisProvider.section).\(provider.name).\(key)"
                secrets[name] = value
                return .object(["secret": .string(name)])
            }
            var settings: [String: JSONValue] = ["address": .string(c?.address ?? "")]
            if let username = c?.username { settings["username"] = .string(username) }
            if let file = c?.usernameFile {
                // A user name is no secret, but PipeCD keeps it in a file the function may not see: read it here.
                settings["username"] = .string(try SecretReference.resolve("file:" + file, environment: environment))
            }
            settings["password"] = try resolve(c?.password, file: c?.passwordFile, key: "password")
            settings["bearerToken"] = try resolve(c?.bearerToken, file: nil, key: "bearerToken")
            if let timeout = c?.timeout { settings["timeout"] = .string(timeout) }
            entries.append(.object(["name": .string(provider.name), "type": .string(provider.type),
                                    "config": .object(settings)]))
        }
        return ServerConfigSection(value: .array(entries), secrets: secrets)
    }
}
