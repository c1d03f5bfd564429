import CoreMetrics
import Foundation
import Logging
import SecretEncryption
import Store

/// With several replicas, the one that planned a deployment wrote its sources into its own data dir; the replica
/// that runs a stage may be another. This writes them here the same way (from a mirror of its own, so it never
/// contends with the planner's fetches), once per deployment, before the stage is leased.
public actor SourcesOnDemand {
    private let repositories: [String: RepositoryConfig]
    private let dataDir: String
    private let logger: Logger
    private let git: GitRunner
    private let secrets: SecretDecryption

    public init(repositories: [RepositoryConfig], dataDir: String, secretKey: SecretKey? = nil, logger: Logger,
                metrics: any MetricsFactory = MetricsSystem.factory) {
        secrets = SecretDecryption(key: secretKey)
        git = GitRunner(metrics: metrics)
        var byID: [String: RepositoryConfig] = [:]
        for repo in repositories where byID[repo.id] == nil { byID[repo.id] = repo }
        self.repositories = byID; self.dataDir = dataDir; self.logger = logger
    }

    public func ensure(_ d: Deployment) async throws {
        let dirs = Planner.sourcesDirectory(dataDir: dataDir, deploymentID: d.id)
        if FileManager.default.fileExists(atPath: dirs.target) { return }
        guard let repository = repositories[d.repository] else {
            throw SourcesUnavailable(description: "repository \(d.repository) of deployment \(d.id) is not in this replica's config")
        }
        let mirror = Mirror(repository: repository, dataDir: dataDir + "/replica-mirrors", git: git)
        if try await mirror.resolveCommit(d.commit) == nil { try await mirror.sync() }
        // Written beside and renamed into place: a replica that dies half way leaves no partial target behind.
        let staging = dirs.target + ".partial-\(UUID().uuidString.prefix(8))"
        try await mirror.materialize(d.appPath, at: d.commit, into: staging)
        let shared = DataLayout.sharedSources(dataDir, deploymentID: d.id)
        try? FileManager.default.removeItem(atPath: shared)
        try await mirror.materializeShared(at: d.commit, into: shared)
        if let running = d.runningCommit, let full = try await mirror.resolveCommit(running),
           try await mirror.hasDirectory(d.appPath, at: full) {
            try? FileManager.default.removeItem(atPath: dirs.running)
            try await mirror.materialize(d.appPath, at: full, into: dirs.running)
        }
        try FileManager.default.moveItem(atPath: staging, toPath: dirs.target)
        logger.info("sources of deployment \(d.id) written on this replica (planned elsewhere)")
    }
}

public struct SourcesUnavailable: Error, CustomStringConvertible { public let description: String }
