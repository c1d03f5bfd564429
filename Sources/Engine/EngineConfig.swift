import CoreMetrics
import Foundation
import FunctionKit
import Store

/// A platform entry from the server config, as the engine needs it: its kind picks the function
/// (e.g. which ROLLBACK), its settings go to the function as `platform` in the event.
public struct PlatformInfo: Sendable {
    public var kind: String
    public var settings: JSONValue
    public init(kind: String, settings: JSONValue) { self.kind = kind; self.settings = settings }
}

public struct EngineConfig: Sendable {
    public var dataDir: String
    /// This server's stable name among the replicas sharing the store (kept in the data dir, or `--replica-id`).
    public var replica: String
    /// Lease owner name `<replica>/<process start>`: unique per process start, so after a crash every old lease is
    /// visibly an earlier process's, and its replica prefix tells which replica may recover it at once.
    public var owner: String
    /// How long a stage lease lasts without renewal: a replica that dies or stops loses its stages after this.
    /// The engine renews its leases three times per period while their functions run.
    public var leaseSeconds: Double
    /// The longest the engine sleeps without a wake-up: the safety sweep for a lost cross-replica notification.
    public var sweepSeconds: Double
    /// Makes sure a deployment's sources are in this replica's data dir before a stage of it is leased (a
    /// deployment planned by another replica has them there only). Nil: they always are.
    public var prepareSources: (@Sendable (Deployment) async throws -> Void)?
    public var platforms: [String: PlatformInfo]
    /// Extra GANTRY_* variables for every invocation (e.g. GANTRY_API_URL).
    public var environment: [String: String]
    /// Secret name -> value from the server config's `secrets:`; a function gets the ones it declares.
    public var secrets: [String: String]
    /// Server-config sections functions may read, by name; a function gets the ones its `serverConfig:` names.
    public var sections: [String: ServerConfigSection]
    /// Repository id -> its remote, for the event's `deployment.repositoryURL`.
    public var repositoryURLs: [String: String]
    /// Where the per-function invocation metrics go: the server passes its own Prometheus registry's factory (the
    /// process-wide MetricsSystem can be bootstrapped only once, while one process may hold several servers).
    public var metricsFactory: any MetricsFactory

    public init(dataDir: String, replica: String = "gantry", platforms: [String: PlatformInfo] = [:],
                environment: [String: String] = [:], secrets: [String: String] = [:], leaseSeconds: Double = 10,
                sweepSeconds: Double = 5, prepareSources: (@Sendable (Deployment) async throws -> Void)? = nil,
                repositoryURLs: [String: String] = [:], sections: [String: ServerConfigSection] = [:],
                metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.dataDir = dataDir; self.replica = replica
        self.owner = replica + "/" + UUID().uuidString.lowercased()
        self.platforms = platforms; self.environment = environment
        self.secrets = secrets; self.leaseSeconds = leaseSeconds; self.sweepSeconds = sweepSeconds
        self.prepareSources = prepareSources; self.repositoryURLs = repositoryURLs; self.sections = sections
        self.metricsFactory = metricsFactory
    }
}
