import Foundation
import Store
import XCTest
@testable import Planner

/// The config files of the next commit, from the last commit's list and `git diff`, are exactly what listing the
/// whole tree gives (paths, blob ids, sizes, order), whatever the push did to them.
final class ConfigFileIndexTests: XCTestCase {
    func testTheListFollowsEveryKindOfChangeAsAFullListingWould() async throws {
        let repo = try GitFixture()
        try repo.write("apps/a/app.gantry.yaml", "a: 1\n")
        try repo.write("apps/a-b/app.gantry.yaml", "ab: 1\n")
        try repo.write("apps/b/app.pipecd.yaml", "b: 1\n")
        try repo.write("apps/b/README.md", "not a config\n")
        try repo.write("c/.pipe.yaml", "c: 1\n")
        var commits = [try repo.commitAndPush("first")]
        // Edited, deleted, added, a whole directory renamed, a symlink config, an unrelated file.
        try repo.write("apps/a/app.gantry.yaml", "a: 2, and longer\n")
        try repo.remove("apps/a-b/app.gantry.yaml")
        try repo.write("apps/new/app.gantry.yaml", "new: 1\n")
        try repo.git(["mv", "c", "d"])
        try FileManager.default.createSymbolicLink(atPath: repo.work + "/apps/link.pipecd.yaml",
                                                   withDestinationPath: "b/app.pipecd.yaml")
        try repo.write("apps/b/README.md", "still not a config\n")
        commits.append(try repo.commitAndPush("second"))
        // Nothing about configs changed.
        try repo.write("apps/b/README.md", "third\n")
        commits.append(try repo.commitAndPush("third"))

        let config = RepositoryConfig(id: "mono", remote: repo.remote, branch: "main")
        let mirror = Mirror(repository: config, dataDir: repo.dataDir, git: GitRunner())
        try await mirror.sync()
        let wanted: @Sendable (String) -> Bool = { AppDiscovery.configFileKind($0) != nil }
        let index = ConfigFileIndex()
        for commit in commits {
            let listed = try await mirror.files(at: commit, where: wanted)
            let indexed = try await index.files(repository: "mono", at: commit, mirror: mirror, where: wanted)
            XCTAssertEqual(indexed, listed, "at \(commit)")
        }
        let second = try await mirror.files(at: commits[1], where: wanted)
        XCTAssertEqual(second.map(\.path),
                       ["apps/a/app.gantry.yaml", "apps/b/app.pipecd.yaml", "apps/link.pipecd.yaml",
                        "apps/new/app.gantry.yaml", "d/.pipe.yaml"])
        // Back to the first commit (a force-push): a diff backwards is as good.
        let back = try await index.files(repository: "mono", at: commits[0], mirror: mirror, where: wanted)
        let first = try await mirror.files(at: commits[0], where: wanted)
        XCTAssertEqual(back, first)
    }
}
