import FunctionKit
import Logging
import Outbox
import Store

extension GantryServer {
    /// The outbox's receivers from `notifications:` and `repositories[].status`, the router the store asks in its
    /// transactions, and the sender. Set up before anything can change a deployment, so no event goes unrouted.
    static func outbox(_ c: ServerConfig, store: any Store, logger: Logger) throws -> (sender: OutboxSender, api: OutboxAPI) {
        let statuses = (c.repositories ?? []).compactMap { repo in
            repo.status.map { OutboxReceivers.StatusRepository(id: repo.id, remote: repo.remote, status: $0) }
        }
        let receivers: OutboxReceivers
        do {
            receivers = try OutboxReceivers(notifications: c.notifications, statuses: statuses,
                                            externalURL: c.server.apiURL, resolve: { try SecretReference.resolve($0) })
        } catch let invalid as OutboxReceivers.Invalid {
            throw ServerConfig.Invalid(description: invalid.description)
        }
        let o = c.outbox
        let policy = OutboxRetry(maxAttempts: o?.maxAttempts ?? 10,
                                 initialInterval: try o?.initialInterval.map(DurationText.seconds) ?? 1,
                                 maxInterval: try o?.maxInterval.map(DurationText.seconds) ?? 300)
        let wakeup = Wakeup()
        let sender = OutboxSender(store: store, receivers: receivers, policy: policy,
                                  timeout: try o?.timeout.map(DurationText.seconds) ?? 10,
                                  sweep: try o?.sweepInterval.map(DurationText.seconds) ?? 5, wakeup: wakeup, logger: logger)
        store.outbox.configure(router: receivers.router, onEnqueue: { wakeup.signal() })
        return (sender, OutboxAPI(store: store, redaction: receivers.redaction))
    }
}
