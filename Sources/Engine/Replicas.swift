import Foundation
import Store

extension Engine {
    /// Beats three times per lease period: the replica shows as live, and the leases of the functions it runs are
    /// extended. A lease it lost (it was paused or cut off past expiry and another replica took the stage over)
    /// stops its function: that attempt's checkpoints and result are fenced off anyway.
    func heartbeatLoop() async {
        while !Task.isCancelled && !stopping {
            await beat()
            try? await Task.sleep(nanoseconds: UInt64(config.leaseSeconds / 3 * 1_000_000_000))
        }
    }

    func beat() async {
        let leases = runningAttempts.map { HeldLease(deploymentID: $0.key.deployment, index: $0.key.index, attempt: $0.value) }
        do {
            let now = Date()
            let answer = try await store.heartbeat(replica: config.replica, owner: config.owner, startedAt: startedAt,
                                                   leases: leases, leaseExpiry: now.addingTimeInterval(config.leaseSeconds),
                                                   liveWithin: config.leaseSeconds, now: now)
            liveReplicas = answer.liveReplicas
            for lost in answer.lost {
                let key = StageKey(deployment: lost.deploymentID, index: lost.index)
                guard runningAttempts[key] == lost.attempt, let control = running[key] else { continue }
                logger.warning("lost the lease of \(key) attempt \(lost.attempt) (taken over elsewhere): stopping it")
                control.stop(.shutdown)
            }
        } catch {
            logger.error("heartbeat failed: \(error)")
        }
    }

    /// New work is spread over the live replicas: each stage ready to start has one preferred replica (rendezvous
    /// hashing on its deployment, so a deployment's stages stay together). Another replica leaves it alone for a
    /// short grace, then takes it too, so a preferred replica that is slow or gone never holds work up for long.
    /// Returns when to look again, or nil to start it now.
    func deferral(of stage: Stage, now: Date) -> Date? {
        if prefersThisReplica(stage.deploymentID) { return nil }
        let key = StageKey(deployment: stage.deploymentID, index: stage.index)
        let since = deferredSince[key] ?? now
        deferredSince[key] = since
        let grace = min(2, config.leaseSeconds / 2)
        return now.timeIntervalSince(since) >= grace ? nil : since.addingTimeInterval(grace)
    }

    /// Whether this replica is the live one the deployment's new work goes to (always, when it is alone).
    func prefersThisReplica(_ deploymentID: String) -> Bool {
        Self.preferredReplica(for: deploymentID, among: Set(liveReplicas + [config.replica])) == config.replica
    }

    /// The replica a deployment's new work goes to among `replicas`: rendezvous hashing, so every replica that sees
    /// the same live set picks the same one, and a replica joining or leaving moves only its share.
    public static func preferredReplica(for deploymentID: String, among replicas: Set<String>) -> String? {
        replicas.max { weight($0, deploymentID) < weight($1, deploymentID) }
    }

    /// FNV-1a over "replica|deployment": the same in every process (Swift's Hasher is seeded per process).
    static func weight(_ replica: String, _ deployment: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (replica + "|" + deployment).utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }
}
