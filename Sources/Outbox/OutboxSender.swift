import Foundation
import Logging
import Store

/// Sends the outbox's due rows. The engine only inserts rows; this loop does every call, so a slow or dead
/// receiver never holds a deployment up. It sleeps until woken (a row enqueued or re-queued in this process),
/// until the earliest pending row is due, or at most `sweep` seconds (rows another replica enqueued).
public struct OutboxSender: Sendable {
    let store: any OutboxStore
    let receivers: OutboxReceivers
    let policy: OutboxRetry
    let http: OutboundHTTP
    let lease: Double
    let sweep: Double
    let logger: Logger
    public let wakeup: Wakeup

    public init(store: any OutboxStore, receivers: OutboxReceivers, policy: OutboxRetry, timeout: Double, sweep: Double,
                wakeup: Wakeup, logger: Logger) {
        self.store = store; self.receivers = receivers; self.policy = policy; self.sweep = sweep
        self.wakeup = wakeup; self.logger = logger
        http = OutboundHTTP(timeout: timeout)
        // A claimed row is held past the request's time limit, so it is not sent twice while it is in flight.
        lease = timeout * 2 + 1
    }

    /// Rows claimed together are of different (target, deployment) pairs, so they are sent at once.
    static let batch = 32

    /// Sends until the task is cancelled. A wait ends at once when it is: a graceful stop must not sit out `sweep`.
    public func run() async {
        await withTaskCancellationHandler {
            await loop()
        } onCancel: {
            wakeup.signal()
        }
    }

    private func loop() async {
        while !Task.isCancelled {
            do {
                let due = try await store.claimOutbox(now: Date(), limit: Self.batch, lease: lease)
                if !due.isEmpty {
                    await attempt(due)
                    continue
                }
                let next = try await store.nextOutboxAttempt()
                await wakeup.wait(timeout: next.map { min(sweep, max(0.005, $0.timeIntervalSinceNow)) } ?? sweep)
            } catch {
                if Task.isCancelled { return }
                logger.warning("outbox: \(error)")
                await wakeup.wait(timeout: sweep)
            }
        }
    }

    /// One attempt per row, all at once, recorded together. A row whose send succeeded but whose record is lost
    /// (a crash between the two) is sent again after its lease with the same id: receivers dedupe by `webhook-id`.
    func attempt(_ batch: [OutboxMessage]) async {
        let outcomes = await withTaskGroup(of: (id: Int64, outcome: OutboxAttempt).self) { group in
            for message in batch { group.addTask { (message.id, await self.send(message)) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        do {
            try await store.recordOutboxAttempts(outcomes, now: Date())
        } catch {
            logger.warning("outbox: recording \(outcomes.count) attempts: \(error)")
        }
    }

    func send(_ message: OutboxMessage) async -> OutboxAttempt {
        let attempts = message.attempts + 1
        guard let receiver = receivers.receiver(message.target) else {
            return failure("no receiver named \(message.target) in the config", attempts: attempts, permanent: true)
        }
        let exchange = OutboundExchange(http: http, store: store, target: message.target, now: Date())
        do {
            try await receiver.deliver(message, through: exchange)
            return .sent
        } catch let failed as DeliveryFailure {
            var retryAfter: Double?
            if case .refused(_, let header, _) = failed { retryAfter = OutboxRetry.retryAfter(header, now: Date()) }
            return failure(failed.description, attempts: attempts, permanent: failed.isPermanent, retryAfter: retryAfter)
        } catch {
            // The row or the config cannot make a request (an unreadable payload, a bad secret): the same next time.
            return failure("cannot build the request: \(error)", attempts: attempts, permanent: true)
        }
    }

    private func failure(_ error: String, attempts: Int, permanent: Bool, retryAfter: Double? = nil) -> OutboxAttempt {
        let delay = policy.delay(afterAttempts: attempts, retryAfter: retryAfter)
        return .failed(error: receivers.redaction.apply("attempt \(attempts): \(error)"),
                       retryAt: Date().addingTimeInterval(delay),
                       deadLetter: permanent || policy.deadLetters(afterAttempts: attempts))
    }
}
