import Engine
import Foundation
import FunctionHost
import FunctionKit
import Hummingbird
import HummingbirdCore
import Ingress
import Logging
import Planner
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
        public let app: Hummingbird.Application<RouterResponder<BasicRequestContext>>
        public let engine: Engine
        public let planner: Planner
        public let plannerWakeup: Wakeup
        public let reconciler: Reconciler
        public let store: any Store
    }

    public func run() async throws {
        let parts = try await assemble()
        let engine = parts.engine
        let engineTask = Task { await engine.run() }
        let plannerTask = Task { await parts.planner.run(wakeup: parts.plannerWakeup, onPlanned: { engine.wakeup.signal() }) }
        let reconcileTask = Task { await parts.reconciler.run() }
        let listenTask = Task { await Self.listen(parts.store, planner: parts.plannerWakeup, engine: engine.wakeup,
                                                  logger: parts.app.logger) }
        defer { plannerTask.cancel(); reconcileTask.cancel(); listenTask.cancel() }
        try await parts.app.runService()
        parts.app.logger.notice("shutting down: running functions get `shutdown` and resume after restart")
        await engine.shutdown()
        engineTask.cancel()
    }

    /// Opens the store, recovers interrupted work (before anything is served), and wires the routes.
    public func assemble() async throws -> Assembled {
        var logger = Logger(label: "gantry")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let c = config
        let dataDir = c.server.dataDir
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        guard let listen = HostPort(c.server.listen) else { throw ServerConfig.Invalid(description: "bad listen address") }

        let store = try await StoreSelection.parse(c.server.database, dataDir: dataDir).open(logger: logger)
        let replica = try ReplicaIdentity.resolve(explicit: replicaID, dataDir: dataDir)
        let leaseSeconds = try c.server.leaseDuration.map(DurationText.seconds) ?? 10
        let sweepSeconds = try c.server.sweepInterval.map(DurationText.seconds) ?? 5
        let auth = try Accounts(store: store, config: c)
        if auth.open && !["127.0.0.1", "localhost", "::1"].contains(listen.host) {
            throw ServerConfig.Invalid(description: "no API tokens or users configured: refusing to serve the API on \(listen.host) (add server.tokens, or listen on 127.0.0.1)")
        }
        if auth.open { logger.warning("no API tokens or users configured: the API is open to local users on \(c.server.listen)") }
        var functionPaths = c.functions?.paths ?? []
        if let builtin = Locations.builtinFunctions() { functionPaths.insert(builtin, at: 0) } else {
            logger.warning("built-in functions not found (set GANTRY_BUILTIN_FUNCTIONS)")
        }
        let functionLogger = logger
        let functions = FunctionCatalog(paths: functionPaths, executableSearchPaths: [Locations.executableDirectory],
                                        onChange: { before, after in
            Self.logFunctionChanges(before: before, after: after, logger: functionLogger)
        })
        let registry = functions.registry
        for problem in registry.problems { logger.error("function: \(problem)") }
        let isolation = try Self.functionIsolation(c, configPath: configPath, dataDir: dataDir, logger: logger)
        let host = FunctionHost(supervisorPath: Locations.supervisor, registry: registry, isolation: isolation.settings)

        var platforms: [String: PlatformInfo] = [:]
        for (p, raw) in zip(c.platforms ?? [], rawPlatforms) {
            platforms[p.name] = PlatformInfo(kind: p.kind, settings: raw)
        }
        var secrets: [String: String] = [:]
        for secret in c.secrets ?? [] { secrets[secret.name] = try SecretReference.resolve(secret.value) }
        let repos = c.repositories ?? []
        let metrics = ServerMetrics(repositories: repos.map(\.id))
        // A deployment planned by another replica has its sources in that replica's data dir: fetch them here.
        let sources = SourcesOnDemand(repositories: repos.map { RepositoryConfig(id: $0.id, remote: $0.remote, branch: $0.branch ?? "main") },
                                      dataDir: dataDir, logger: logger, metrics: metrics.factory)
        let engine = Engine(store: store, host: host, functions: functions,
                            config: EngineConfig(dataDir: dataDir, replica: replica, platforms: platforms,
                                                 environment: ["GANTRY_API_URL": c.server.apiURL, "GANTRY_REPLICA": replica],
                                                 secrets: secrets, leaseSeconds: leaseSeconds, sweepSeconds: sweepSeconds,
                                                 prepareSources: { try await sources.ensure($0) },
                                                 metricsFactory: metrics.factory),
                            logger: logger)
        let interrupted = try await engine.recover()
        if interrupted > 0 { logger.notice("recovery: \(interrupted) interrupted stage(s) will be re-invoked") }

        let planner = Planner(store: store,
                              repositories: repos.map { RepositoryConfig(id: $0.id, remote: $0.remote, branch: $0.branch ?? "main") },
                              platforms: (c.platforms ?? []).map { PlatformConfig(name: $0.name, kind: $0.kind) },
                              dataDir: dataDir, logger: logger, metrics: metrics.factory)
        let plannerWakeup = Wakeup()
        let bindings = try repos.compactMap { repo -> WebhookBinding? in
            guard let hook = repo.webhook else { return nil }
            guard let provider = WebhookProvider(rawValue: hook.provider ?? "github") else {
                throw ServerConfig.Invalid(description: "binding \(hook.binding): unknown provider \(hook.provider ?? "")")
            }
            let secrets = try (hook.secrets ?? []).map { Array(try SecretReference.resolve($0).utf8) }
            return WebhookBinding(id: hook.binding, provider: provider, repository: repo.id,
                                  branch: repo.branch ?? "main", secrets: secrets, remote: repo.remote,
                                  allowSHA1: hook.allowSHA1 ?? false)
        }
        let plannerThrottle = WakeupThrottle { plannerWakeup.signal() }
        let ingress = try Ingress(bindings: bindings, store: store, metrics: metrics.factory,
                                  onTrigger: { plannerThrottle.signal() })
        let reconciler = Reconciler(store: store, targets: try repos.map { repo in
            Reconciler.Target(repository: RepositoryConfig(id: repo.id, remote: repo.remote, branch: repo.branch ?? "main"),
                              interval: try repo.reconcile.map(DurationText.seconds) ?? Reconciler.defaultInterval)
        }, logger: logger, metrics: metrics.factory, onCatch: { caught in
            metrics.countCatch(repository: caught.repository)
            plannerWakeup.signal()
        })

        let limits = try IngressLimits(c.server)
        let gate = InFlightGate(limit: limits.maxInFlight)
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: OriginGuard(server: c.server, open: auth.open))
        addHookRoutes(to: router, ingress: ingress, limits: limits, gate: gate, logger: logger)
        addObservabilityRoutes(to: router, context: ObservabilityContext(store: store, auth: auth, ingress: ingress,
                                                                         metrics: metrics, gate: gate))
        let api = APIContext(store: store, auth: auth, repositories: repos, wakeEngine: { engine.wakeup.signal(deployment: $0) },
                             wakePlanner: { plannerWakeup.signal() }, isolation: isolation.health)
        addAPIRoutes(to: router, api: api)
        addWebRoutes(to: router, web: WebContext(store: store, accounts: auth, api: api, ingress: ingress,
                                                 library: try Templates.library()))
        addCallbackRoutes(to: router, store: store, wakeEngine: { engine.wakeup.signal(deployment: $0) })
        addReplicaRoutes(to: router, store: store, auth: auth, liveWithin: leaseSeconds)
        let addressFile = dataDir + "/listen-address"
        let startupLogger = logger
        // The guards sit between HTTP decoding and Hummingbird: deadlines per connection and a 431 for oversized
        // heads (whose size NIO's decoder caps).
        let deadlines = limits.deadlines
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadlines(limits: deadlines), HeaderSizeGuard(), ClientAddressTag()],
            httpDecoderConfiguration: .init(maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes))
        let app = Hummingbird.Application(router: router, server: .http1(configuration: http1),
                              configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "gantry"),
                              onServerRunning: { channel in
                                  let port = channel.localAddress?.port ?? listen.port
                                  let address = "\(listen.host):\(port)"
                                  try? address.write(toFile: addressFile, atomically: true, encoding: .utf8)
                                  startupLogger.notice("gantry listening on http://\(address)")
                              },
                              logger: logger)

        return Assembled(app: app, engine: engine, planner: planner, plannerWakeup: plannerWakeup, reconciler: reconciler,
                         store: store)
    }

    /// `functions.isolation` and `functions.user` made real, checked on this machine before anything runs: with
    /// `required` (the default) a server that cannot isolate its functions refuses to start; with `off` it says
    /// what that means. The probe runs the supervisor as every invocation would, minus the program.
    static func functionIsolation(_ c: ServerConfig, configPath: String?, dataDir: String,
                                  logger: Logger) throws -> (settings: FunctionIsolation?, health: IsolationHealth) {
        let required = (c.functions?.isolation ?? "required") == "required"
        let user: FunctionUser
        do { user = try c.functions?.user.map(FunctionUser.resolve) ?? FunctionUser.defaultUser() } catch {
            throw ServerConfig.Invalid(description: String(describing: error))
        }
        if required && user.uid == 0 {
            throw ServerConfig.Invalid(description: "functions.user \(user) is root: an isolated function must not be root (it could undo its own isolation); name another user, or set functions.isolation: off")
        }
        let hidden = [dataDir] + (configPath.map { [$0] } ?? []) + c.secretFiles.map { ServerConfig.absolute($0, base: "") }
        let settings = FunctionIsolation(user: user, hidden: hidden, kept: c.functions?.keep ?? [])
        if required, let problem = settings.keptProblem() {
            throw ServerConfig.Invalid(description: "functions.keep: \(problem)")
        }
        let scratch = dataDir + "/invocations"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        // Also with isolation off: /healthz and the log then say whether it could be turned on.
        let probe = IsolationProbe.run(supervisorPath: Locations.supervisor, isolation: settings, scratch: scratch)
        guard required else {
            let server = FunctionUser.server
            logger.warning("functions.isolation is off: functions run as \(server) and can read the server's config, database and secret files\(probe.problem.map { " (isolation could not be set up here anyway: \($0))" } ?? "")")
            if c.functions?.user != nil || c.functions?.keep != nil {
                logger.warning("functions.user and functions.keep are not used while functions.isolation is off")
            }
            return (nil, IsolationHealth(mode: "off", active: false, user: server.name, uid: server.uid,
                                         networkNone: false, problem: probe.problem))
        }
        if let problem = probe.problem {
            logger.error("function isolation cannot be set up on this machine: \(problem)")
            throw ServerConfig.Invalid(description: "function isolation cannot be set up on this machine (\(problem)); it needs root (mount namespaces, a user switch) and a data dir the function user \(user.name) can reach. Fix that, or set functions.isolation: off to run functions as the server's own user, seeing its files")
        }
        logger.notice("functions run isolated as \(user): own mount namespace without \(settings.hidden.count) server path(s), private /tmp\(probe.networkNone ? "" : "; network: none is not available here (no network namespaces): such functions will fail IsolationFailed") (checked in \(probe.wallMs) ms)")
        return (settings, IsolationHealth(mode: "required", active: true, user: user.name, uid: user.uid,
                                          networkNone: probe.networkNone, problem: nil))
    }

    /// What a re-read of the function folders changed, and the problems it found that were not there before (the
    /// ones still there were logged when they appeared).
    static func logFunctionChanges(before: FunctionRegistry, after: FunctionRegistry, logger: Logger) {
        let old = Dictionary(before.functions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(after.functions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let added = new.keys.filter { old[$0] == nil }.sorted()
        let removed = old.keys.filter { new[$0] == nil }.sorted()
        let changed = new.keys.filter { old[$0] != nil && old[$0] != new[$0] }.sorted()
        if !(added.isEmpty && removed.isEmpty && changed.isEmpty) {
            logger.notice("functions reloaded: added [\(added.joined(separator: ", "))], changed [\(changed.joined(separator: ", "))], removed [\(removed.joined(separator: ", "))]")
        }
        let known = Set(before.problems)
        for problem in after.problems where !known.contains(problem) { logger.error("function: \(problem)") }
    }
}

