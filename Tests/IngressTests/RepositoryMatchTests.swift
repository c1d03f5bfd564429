@testable import Ingress
import Store
import XCTest

/// Payload URLs against the configured remote, normalized; a delivery for another repository is ignored with
/// the reason, never accepted for the wrong one.
final class RepositoryMatchTests: XCTestCase {
    func testSpellingsOfOneRepositoryAreEqual() {
        let groups: [[String]] = [
            ["https://github.com/Octo/App.git", "git@github.com:octo/app", "ssh://git@github.com:22/octo/app.git",
             "https://user:token@GitHub.com/octo/app/", "git://github.com/octo/app.git", "http://www.github.com/octo/app",
             "https://github.com/octo/app?tab=readme#top"],
            ["https://dev.azure.com/fabrikam/Fiber/_git/Web", "https://fabrikam@dev.azure.com/fabrikam/Fiber/_git/Web",
             "git@ssh.dev.azure.com:v3/fabrikam/Fiber/Web", "https://fabrikam.visualstudio.com/Fiber/_git/Web",
             "https://fabrikam.visualstudio.com/DefaultCollection/Fiber/_git/Web",
             "fabrikam@vs-ssh.visualstudio.com:v3/fabrikam/Fiber/Web"],
            // The project may be left out when it is named like the repository.
            ["https://dev.azure.com/org/DefaultCollection/_git/Repo", "git@ssh.dev.azure.com:v3/org/Repo/Repo"],
            ["ssh://git@gitlab.example.com:2222/group/sub/project.git", "https://gitlab.example.com/group/sub/project"],
            ["/srv/git/demo.git", "file:///srv/git/demo.git", "/srv/git/demo", "/srv/git/./demo.git/",
             "file://localhost/srv/git/demo"],
        ]
        for group in groups {
            let keys = group.map { RepositoryLocation($0)?.key }
            XCTAssertNotNil(keys[0], group[0])
            for (url, key) in zip(group, keys) { XCTAssertEqual(key, keys[0], "\(url) vs \(group[0])") }
        }
    }

    func testDifferentRepositoriesDiffer() {
        let distinct = ["https://github.com/octo/app", "https://github.com/octo/app2", "https://gitlab.com/octo/app",
                        "https://github.com/other/app", "/srv/git/Demo.git", "/srv/git/demo.git",
                        "https://dev.azure.com/org/ProjA/_git/Repo", "https://dev.azure.com/org/ProjB/_git/Repo"]
        let keys = distinct.compactMap { RepositoryLocation($0)?.key }
        XCTAssertEqual(Set(keys).count, distinct.count, "\(keys)")
        for junk in ["", "  ", "host\nname:x"] { XCTAssertNil(RepositoryLocation(junk), junk) }
    }

    func testAPushForAnotherRepositoryIsIgnoredWithoutShowingCredentials() async throws {
        let body = try HostSigning.fixture("github", "push-new-branch")
        let other = HostSigning.binding(.github, branch: "master", remote: "https://deploy:s3cr3t-token@github.com/octo/other.git")
        let harness = try IngressHarness(bindings: [other])
        let reply = await harness.ingress.handle(binding: "hook", headers: HostSigning.headers(.github, body: body), body: body)
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.reason, "repository github.com/codertocat/hello-world is not bound here "
                                     + "(binding hook is for github.com/octo/other)")
        XCTAssertFalse(reply.reason.contains("s3cr3t"))
        let triggers = await harness.store.recordedTriggers()
        XCTAssertTrue(triggers.isEmpty)
        XCTAssertFalse("\(other)".contains("s3cr3t"), "printing a binding hides credentials in its remote")
    }
}
