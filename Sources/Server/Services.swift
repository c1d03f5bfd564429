import Engine
import Logging
import Planner
import ServiceLifecycle
import Store

/// The engine as a service: on graceful shutdown, running functions are told `shutdown` (their stages resume
/// after a restart, here or on another replica) before the loop stops.
struct EngineService: Service {
    let engine: Engine
    let logger: Logger

    func run() async {
        let loop = Task { await engine.run() }
        try? await gracefulShutdown()
        logger.notice("shutting down: running functions get `shutdown` and resume after restart")
        await engine.shutdown()
        loop.cancel()
        await loop.value
    }
}

/// A loop that runs until the server stops (planner, reconciler, store notifications): it holds nothing that a
/// restart would lose, so graceful shutdown cancels it.
struct LoopService: Service, CustomStringConvertible {
    let description: String
    let body: @Sendable () async -> Void

    func run() async {
        await cancelWhenGracefulShutdown { await body() }
    }
}
