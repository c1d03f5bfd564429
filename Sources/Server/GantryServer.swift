import Accounts
import Engine
import GantryAPI
import Foundation
import FunctionHost
import FunctionKit
import Hummingbird
import HummingbirdCore
import Ingress
import Logging
import Outbox
import Planner
import SecretEncryption
import ServiceLifecycle
import SQLiteStore
import Store

/// Puts the flow together: ingress → planner → engine → function host, all on one store (SQLite, or PostgreSQL
/// shared by several replicas).
public struct GantryServer: Sendable {
    public let config: ServerConfig
    let rawPlatforms: [JSONValue]
    /// `--replica-id`; nil: the id kept in the data dir.
    let replicaID: String?
    /// The config file, absolute: hidden from functions.
    let configPath: String?

    public init(configPath: String?, replicaID: String? = nil) throws {
        self.replicaID = replicaID
        self.configPath = configPath.map { ServerConfig.absolute($0, base: "") }
        if let configPath {
            (config, rawPlatforms) = try ServerConfig.load(path: configPath)
        } else {
            var c = ServerConfig()
            c.server.dataDir = ServerConfig.absolute(c.server.dataDir, base: "")
            config = c; rawPlatforms = []
        }
    }

    /// The parts `run()` drives; tests drive the application in-process with HummingbirdTesting.
    public struct Assembled: Sendable {
        public let app: Hummingbird.Application<RouterResponder<GantryRequestContext>>
        public let engine: Engine
        public let planner: Planner
        public let plannerWakeup: Wakeup
        public let reconciler: Reconciler
        public let store: any Store
        let outbox: OutboxSender
        let logger: Logger

        /// Everything that runs, in start order; a graceful stop (SIGTERM, SIGINT) stops them in reverse: HTTP
        /// first (open requests finish), then the loops, then the engine (running functions get `shutdown`). A loop
        /// with nothing to do returns at once (no repository to reconcile, a store without notifications): that
        /// ends only the loop; the engine or the HTTP server ending ends the server.
        func services() -> [ServiceGroupConfiguration.ServiceConfiguration] {
            let engine = engine, planner = planner, plannerWakeup = plannerWakeup, reconciler = reconciler, store = store
            let logger = logger, outbox = outbox
            let loops = [
                LoopService(description: "planner") {
                    await planner.run(wakeup: plannerWakeup, onPlanned: { engine.wakeup.signal() })
                },
                LoopService(description: "reconciler") { await reconciler.run() },
                LoopService(description: "outbox") { await outbox.run() },
                LoopService(description: "store notifications") {
                    await GantryServer.listen(store, planner: plannerWakeup, engine: engine.wakeup, logger: logger)
                },
            ]
            return [.init(service: EngineService(engine: engine, logger: logger))]
                + loops.map { .init(service: $0, successTerminationBehavior: .ignore) }
                + [.init(service: app)]
        }
    }

    public func run() async throws {
        let parts = try await assemble()
        let group = ServiceGroup(configuration: .init(services: parts.services(),
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: parts.logger))
        try await group.run()
    }

    /// Opens the store, recovers interrupted work (before anything is served), and wires the parts together.
    public func assemble() async throws -> Assembled {
        var logger = Logger(label: "gantry")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let c = config
        let dataDir = c.server.dataDir
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        guard let listen = HostPort(c.server.listen) else { throw ServerConfig.Invalid(description: "bad listen address") }

        let store = try await StoreSelection.parse(c.server.database, dataDir: dataDir).open(logger: logger)
        let outbox = try Self.outbox(c, store: store, logger: logger)
        let replica = try ReplicaIdentity.resolve(explicit: replicaID, dataDir: dataDir)
        let leaseSeconds = try c.server.leaseDuration.map(DurationText.seconds) ?? 10
        let sweepSeconds = try c.server.sweepInterval.map(DurationText.seconds) ?? 5
        let accounts = try Accounts(store: store, config: c)
        if accounts.open && !["127.0.0.1", "localhost", "::1"].contains(listen.host) {
            throw ServerConfig.Invalid(description: "no API tokens or users configured: refusing to serve the API on \(listen.host) (add server.tokens, or listen on 127.0.0.1)")
        }
        if accounts.open { logger.warning("no API tokens or users configured: the API is open to local users on \(c.server.listen)") }
        let repos = c.repositories ?? []
        let repositories = repos.map(\.planned)
        let metrics = ServerMetrics(repositories: repos.map(\.id))

        let functions = functionCatalog(logger: logger)
        let isolation = try Self.functionIsolation(c, configPath: configPath, dataDir: dataDir, logger: logger)
        let host = FunctionHost(supervisorPath: Locations.supervisor, registry: functions.registry, isolation: isolation.settings)
        // A deployment planned by another replica has its sources in that replica's data dir: fetch them here.
        let secretKey = try Self.secretKey(c)
        let sources = SourcesOnDemand(repositories: repositories, dataDir: dataDir, secretKey: secretKey, logger: logger,
                                      metrics: metrics.factory)
        let engine = Engine(store: store, host: host, functions: functions,
                            config: EngineConfig(dataDir: dataDir, replica: replica, platforms: try platformInfo(),
                                                 environment: ["GANTRY_API_URL": c.server.apiURL, "GANTRY_REPLICA": replica],
                                                 secrets: try resolvedSecrets(), leaseSeconds: leaseSeconds,
                                                 sweepSeconds: sweepSeconds, prepareSources: { try await sources.ensure($0) },
                                                 repositoryURLs: Dictionary(repos.map { ($0.id, $0.remote) },
                                                                            uniquingKeysWith: { first, _ in first }),
                                                 sections: [AnalysisProvider.section: try c.analysisProvidersSection()],
                                                 metricsFactory: metrics.factory),
                            logger: logger)
        let interrupted = try await engine.recover()
        if interrupted > 0 { logger.notice("recovery: \(interrupted) interrupted stage(s) will be re-invoked") }

        let planner = Planner(store: store, repositories: repositories,
                              platforms: (c.platforms ?? []).map { PlatformConfig(name: $0.name, kind: $0.kind) },
                              functions: PlatformFunctions(catalog: functions, host: host), secretKey: secretKey,
                              dataDir: dataDir, logger: logger, metrics: metrics.factory)
        let plannerWakeup = Wakeup()
        let plannerThrottle = WakeupThrottle { plannerWakeup.signal() }
        let ingress = try Ingress(bindings: try webhookBindings(), store: store, metrics: metrics.factory,
                                  onTrigger: { plannerThrottle.signal() })
        let reconciler = Reconciler(store: store, targets: try repos.map { repo in
            Reconciler.Target(repository: repo.planned,
                              interval: try repo.reconcile.map(DurationText.seconds) ?? Reconciler.defaultInterval)
        }, logger: logger, metrics: metrics.factory, onCatch: { caught in
            metrics.countCatch(repository: caught.repository)
            plannerWakeup.signal()
        })

        let limits = try IngressLimits(c.server)
        let gate = InFlightGate(limit: limits.maxInFlight)
        let router = GantryRouter(context: GantryRequestContext.self)
        router.add(middleware: OriginGuard(server: c.server, open: accounts.open))
        addHookRoutes(to: router, ingress: ingress, limits: limits, gate: gate, logger: logger)
        addObservabilityRoutes(to: router, context: ObservabilityContext(store: store, accounts: accounts, ingress: ingress,
                                                                         metrics: metrics, gate: gate))
        let api = APIContext(store: store, accounts: accounts, repositories: repos,
                             wakeEngine: { engine.wakeup.signal(deployment: $0) },
                             wakePlanner: { plannerWakeup.signal() }, isolation: isolation.health,
                             publicKeyPEM: secretKey?.publicPEM(), outbox: outbox.api,
                             planPreview: { request in
                                 try await planner.preview(repository: request.repository, head: request.head, base: request.base)
                             })
        addAPIRoutes(to: router, api: api)
        addWebRoutes(to: router, web: WebContext(store: store, accounts: accounts, api: api, ingress: ingress,
                                                 library: try Templates.library()))
        addCallbackRoutes(to: router, store: store, wakeEngine: { engine.wakeup.signal(deployment: $0) })
        addReplicaRoutes(to: router, store: store, accounts: accounts, liveWithin: leaseSeconds)
        let app = httpApplication(router: router, listen: listen, limits: limits, dataDir: dataDir, logger: logger)
        return Assembled(app: app, engine: engine, planner: planner, plannerWakeup: plannerWakeup, reconciler: reconciler,
                         store: store, outbox: outbox.sender, logger: logger)
    }

    /// The function folders (built-in first), re-read when they change.
    private func functionCatalog(logger: Logger) -> FunctionCatalog {
        var functionPaths = config.functions?.paths ?? []
        if let builtin = Locations.builtinFunctions() { functionPaths.insert(builtin, at: 0) } else {
            logger.warning("built-in functions not found (set GANTRY_BUILTIN_FUNCTIONS)")
        }
        let functions = FunctionCatalog(paths: functionPaths, executableSearchPaths: [Locations.executableDirectory],
                                        onChange: { before, after in
            Self.logFunctionChanges(before: before, after: after, logger: logger)
        })
        for problem in functions.registry.problems { logger.error("function: \(problem)") }
        return functions
    }

    /// Each platform's settings as the config wrote them, passed to its function unchanged.
    private func platformInfo() throws -> [String: PlatformInfo] {
        var platforms: [String: PlatformInfo] = [:]
        for (p, raw) in zip(config.platforms ?? [], rawPlatforms) {
            platforms[p.name] = PlatformInfo(kind: p.kind, settings: raw)
        }
        return platforms
    }

    private func resolvedSecrets() throws -> [String: String] {
        var secrets: [String: String] = [:]
        for secret in config.secrets ?? [] { secrets[secret.name] = try SecretReference.resolve(secret.value) }
        return secrets
    }

    private func webhookBindings() throws -> [WebhookBinding] {
        try (config.repositories ?? []).compactMap { repo -> WebhookBinding? in
            guard let hook = repo.webhook else { return nil }
            guard let provider = WebhookProvider(rawValue: hook.provider ?? "github") else {
                throw ServerConfig.Invalid(description: "binding \(hook.binding): unknown provider \(hook.provider ?? "")")
            }
            let secrets = try (hook.secrets ?? []).map { Array(try SecretReference.resolve($0).utf8) }
            return WebhookBinding(id: hook.binding, provider: provider, repository: repo.id,
                                  branch: repo.branch ?? "main", secrets: secrets, remote: repo.remote,
                                  allowSHA1: hook.allowSHA1 ?? false)
        }
    }

    /// The HTTP server. The guards sit between HTTP decoding and Hummingbird: deadlines per connection and a 431
    /// for oversized heads (whose size NIO's decoder caps). The bound address is written to the data dir.
    private func httpApplication(router: GantryRouter, listen: HostPort, limits: IngressLimits, dataDir: String,
                                 logger: Logger) -> Hummingbird.Application<RouterResponder<GantryRequestContext>> {
        let addressFile = dataDir + "/listen-address"
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadlines(limits: limits.deadlines), HeaderSizeGuard(), ClientAddressTag()],
            httpDecoderConfiguration: .init(maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes))
        return Hummingbird.Application(router: router, server: .http1(configuration: http1),
                                       configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "gantry"),
                                       onServerRunning: { channel in
                                           let port = channel.localAddress?.port ?? listen.port
                                           let address = "\(listen.host):\(port)"
                                           try? address.write(toFile: addressFile, atomically: true, encoding: .utf8)
                                           logger.notice("gantry listening on http://\(address)")
                                       },
                                       logger: logger)
    }
}

extension ServerConfig.Repository {
    /// The repository as the planner, the reconciler and the source fetcher see it.
    var planned: RepositoryConfig { RepositoryConfig(id: id, remote: remote, branch: branch ?? "main") }
}
