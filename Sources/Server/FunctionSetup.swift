import Foundation
import FunctionHost
import GantryAPI
import Logging

extension GantryServer {
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

