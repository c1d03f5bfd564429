import Foundation
import Logging
import Store

extension GantryServer {
    /// Other replicas' commits wake this one's planner and engine (PostgreSQL `LISTEN`). A lost connection is
    /// listened to again after a pause; meanwhile the engine's sweep and the planner's idle recheck cover it.
    static func listen(_ store: any StoreNotifications, planner: Wakeup, engine: Wakeup, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await store.listen { wake in
                    switch (wake.topic, wake.deploymentID) {
                    case (.planner, _): planner.signal()
                    case (.engine, let id?): engine.signal(deployment: id)
                    case (.engine, nil): engine.signal()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("store notifications lost, listening again: \(error)")
            }
            // After a reconnect, look once: a wake-up may have gone by meanwhile.
            planner.signal(); engine.signal()
            try? await Task.sleep(nanoseconds: 1_000_000_000)
        }
    }
}
