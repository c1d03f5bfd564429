import Foundation
import FunctionKit

/// A platform entry from the server config, as the engine needs it: its kind picks the function
/// (e.g. which ROLLBACK), its settings go to the function as `platform` in the event.
public struct PlatformInfo: Sendable {
    public var kind: String
    public var settings: JSONValue
    public init(kind: String, settings: JSONValue) { self.kind = kind; self.settings = settings }
}

public struct EngineConfig: Sendable {
    public var dataDir: String
    /// Lease owner name: unique per process start, so after a crash every old lease is visibly someone else's.
    public var owner: String
    public var platforms: [String: PlatformInfo]
    /// Extra GANTRY_* variables for every invocation (e.g. GANTRY_API_URL).
    public var environment: [String: String]
    /// Secret name -> value from the server config's `secrets:`; a function gets the ones it declares.
    public var secrets: [String: String]

    public init(dataDir: String, owner: String = "gantry-" + UUID().uuidString.lowercased(),
                platforms: [String: PlatformInfo] = [:], environment: [String: String] = [:],
                secrets: [String: String] = [:]) {
        self.dataDir = dataDir; self.owner = owner; self.platforms = platforms; self.environment = environment
        self.secrets = secrets
    }
}
