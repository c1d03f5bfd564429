import CoreMetrics
import Foundation
import Logging
import Store

/// The safety net under webhooks: per repository, every `interval` it asks the remote for the watched branch's
/// head with `git ls-remote` (no fetch, no mirror lock) and, when that head is not the last commit a trigger
/// named, enqueues a `.reconcile` trigger for it, because a delivery was lost (host outage, server down,
/// misconfigured hook). Webhooks stay the fast path; this only catches what they missed.
public final class Reconciler: Sendable {
    public struct Target: Sendable {
        public var repository: RepositoryConfig
        /// Seconds between checks; 0 or less disables the repository's reconcile.
        public var interval: Double
        public init(repository: RepositoryConfig, interval: Double) {
            self.repository = repository; self.interval = interval
        }
    }

    /// A missed push that a check caught and enqueued.
    public struct Catch: Sendable, Equatable {
        public var repository: String
        public var commit: String
        public var triggerID: Int64
    }

    public static let defaultInterval = 5 * 60.0
    static let lsRemoteTimeout = 60.0

    private let store: any ReconcileStore
    private let targets: [Target]
    private let logger: Logger
    private let git: GitRunner
    private let onCatch: @Sendable (Catch) -> Void

    /// `onCatch` runs after a caught push's trigger is committed (count it, wake the planner).
    public init(store: any ReconcileStore, targets: [Target], logger: Logger,
                metrics: any MetricsFactory = MetricsSystem.factory, onCatch: @escaping @Sendable (Catch) -> Void) {
        git = GitRunner(metrics: metrics)
        self.store = store
        self.targets = targets.filter { $0.interval > 0 }
        self.logger = logger
        self.onCatch = onCatch
    }

    /// Checks each repository once per its interval (the first check one interval after start) until cancelled.
    public func run() async {
        guard !targets.isEmpty else { return }
        var due = targets.map { Date().addingTimeInterval($0.interval) }
        while !Task.isCancelled {
            guard let next = due.min() else { return }
            let wait = next.timeIntervalSinceNow
            if wait > 0 {
                do { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) } catch { return }
            }
            for (index, target) in targets.enumerated() where due[index] <= Date() {
                do {
                    _ = try await check(target)
                } catch {
                    logger.error("reconcile failed; trying again at the next interval",
                                 metadata: ["repository": "\(target.repository.id)", "error": "\(error)"])
                }
                due[index] = Date().addingTimeInterval(target.interval)
            }
        }
    }

    /// One check of one repository: nil when nothing was missed (or the branch does not exist).
    public func check(_ target: Target) async throws -> Catch? {
        let repository = target.repository
        let ref = "refs/heads/\(repository.branch)"
        guard let head = try await remoteHead(repository, ref: ref) else { return nil }
        if try await store.lastTriggeredCommit(repository: repository.id, ref: ref) == head { return nil }
        // A push's own delivery may be on its way right now: give it a moment before calling it missed.
        try await Task.sleep(nanoseconds: UInt64(Self.grace(for: target.interval) * 1e9))
        if try await store.lastTriggeredCommit(repository: repository.id, ref: ref) == head { return nil }
        let id = try await store.addTrigger(NewTrigger(repository: repository.id, ref: ref, commit: head,
                                                       kind: .reconcile))
        let caught = Catch(repository: repository.id, commit: head, triggerID: id)
        logger.notice("reconcile caught a push whose webhook never arrived", metadata: [
            "repository": "\(repository.id)", "ref": "\(ref)", "commit": "\(head.prefix(12))", "trigger": "\(id)",
        ])
        onCatch(caught)
        return caught
    }

    static func grace(for interval: Double) -> Double { min(10, max(0.05, interval / 2)) }

    /// The branch's head as the remote lists it, or nil when the branch does not exist there.
    private func remoteHead(_ repository: RepositoryConfig, ref: String) async throws -> String? {
        let result: GitResult
        do {
            result = try await git.check(["ls-remote", "--quiet", "--end-of-options", repository.remote, ref],
                                         timeout: Self.lsRemoteTimeout)
        } catch let error as GitError {
            throw ReconcileError(description: error.description)
        }
        // ls-remote matches patterns against the tail of ref names: keep only the exact ref.
        for line in result.text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "\t", maxSplits: 1)
            if fields.count == 2, fields[1] == ref, Mirror.looksLikeCommitID(String(fields[0])) {
                return String(fields[0])
            }
        }
        return nil
    }
}

public struct ReconcileError: Error, CustomStringConvertible {
    public let description: String
}
