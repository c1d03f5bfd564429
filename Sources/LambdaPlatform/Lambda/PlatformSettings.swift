import Foundation
import FunctionKit
#if canImport(Glibc)
import Glibc
#endif

/// The server config's platform entry for this app, as the event's `platform` carries it:
/// `{name, kind: lambda, region, endpoint, credentials}` (docs/server-config.md, "platforms").
public struct PlatformSettings: Sendable, Equatable {
    public var name: String
    public var region: String
    public var endpoint: URL
    public var credentials: CredentialSource

    public init(platform: JSONValue, environment: [String: String]) throws {
        guard let object = platform.object, !object.isEmpty else {
            throw StageError.invalidPlatform("this app has no lambda platform: add one with kind: lambda under platforms: in the "
                                  + "server config (or name it with spec.platform)")
        }
        name = object["name"]?.string ?? "lambda"
        if let kind = object["kind"]?.string, kind != "lambda" {
            throw StageError.invalidPlatform("platform \(name) is a \(kind) platform, not lambda")
        }
        guard let region = object["region"]?.string ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"],
              !region.isEmpty else {
            throw StageError.invalidPlatform("platform \(name) has no region (set region: in the server config)")
        }
        self.region = region
        let endpointText = object["endpoint"]?.string
            ?? "https://lambda.\(region).amazonaws.com\(region.hasPrefix("cn-") ? ".cn" : "")"
        guard let url = URL(string: endpointText), let scheme = url.scheme, ["http", "https"].contains(scheme.lowercased()),
              url.host != nil else {
            throw StageError.invalidPlatform("platform \(name): endpoint \(endpointText) is not an http(s) URL")
        }
        endpoint = url
        do { credentials = try CredentialSource(object["credentials"]?.string) } catch {
            throw StageError.invalidPlatform("platform \(name): \(error)")
        }
    }

    /// The home directory of the user the server runs as ($HOME is the invocation directory in a function).
    public static var userHome: String {
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/root"
    }

    /// A Lambda client for this platform, signed with its credentials, retrying until `deadline`.
    public func lambda(environment: [String: String], deadline: Date?,
                       log: @escaping @Sendable (String) -> Void) throws -> LambdaAPI {
        let keys: AWSCredentials
        do { keys = try credentials.resolve(environment: environment, homeDirectory: Self.userHome) } catch {
            throw StageError.invalidPlatform("platform \(name): \(error)")
        }
        let client = AWSClient(endpoint: endpoint, signer: SigV4(credentials: keys, region: region, service: "lambda"),
                               deadline: deadline, log: log)
        return LambdaAPI(client: client, log: log)
    }
}
