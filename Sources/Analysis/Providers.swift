import Foundation
import FunctionKit

/// The server config's `analysisProviders` as the event carries them (`serverConfig.analysisProviders`): each
/// provider's credentials are `{"secret": NAME}`, delivered as the file `$GANTRY_SECRETS/NAME`.
public struct AnalysisProviders: Sendable {
    public struct Entry: Decodable, Sendable {
        public var name: String
        public var type: String
        public var config: Settings

        public struct Settings: Decodable, Sendable {
            public var address: String
            public var username: String?
            public var password: SecretReference?
            public var bearerToken: SecretReference?
            public var timeout: String?
        }
    }

    /// A secret the server delivered as a file, by name.
    public struct SecretReference: Decodable, Sendable { public var secret: String }

    public var entries: [Entry]

    public init(event: FunctionEvent) throws {
        guard let section = event.serverConfig["analysisProviders"], !section.isNull else { entries = []; return }
        do {
            entries = try JSONDecoder().decode([Entry].self, from: Data(section.encoded().utf8))
        } catch {
            throw StageError.invalidStage("the event's serverConfig.analysisProviders is unreadable: \(error)")
        }
    }

    /// The Prometheus client for the provider `name`, its credentials read from the delivered secrets.
    public func prometheus(_ name: String, timeout: Double, environment: [String: String]) throws -> PrometheusClient {
        guard let entry = entries.first(where: { $0.name == name }) else {
            let known = entries.map(\.name)
            throw StageError.invalidStage("analysis provider \(name) is not in the server config's analysisProviders"
                                          + (known.isEmpty ? " (it has none)" : " (known: \(known.joined(separator: ", ")))"))
        }
        guard entry.type == "PROMETHEUS" else {
            throw StageError.invalidStage("analysis provider \(name) is of type \(entry.type); only PROMETHEUS is supported")
        }
        guard let address = URL(string: entry.config.address) else {
            throw StageError.invalidStage("analysis provider \(name): address \(entry.config.address) is not a URL")
        }
        var authorization: String?
        if let token = entry.config.bearerToken {
            authorization = "Bearer " + (try FunctionSecrets.value(token.secret, environment: environment))
        } else if let password = entry.config.password {
            let pair = (entry.config.username ?? "") + ":" + (try FunctionSecrets.value(password.secret, environment: environment))
            authorization = "Basic " + Data(pair.utf8).base64EncodedString()
        }
        let providerTimeout = try entry.config.timeout.map(DurationText.seconds) ?? timeout
        return PrometheusClient(name: name, address: address, authorization: authorization, timeout: min(timeout, providerTimeout))
    }
}
