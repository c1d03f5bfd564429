import Foundation
import GantrySupport
@testable import Server
import Accounts
import XCTest

/// An API token made in the web UI acts as its owner: never with more than the owner holds now, and not at all once
/// the owner is gone, whether the owner was added in the UI or listed in gantry.yaml.
final class TokenOwnerTests: XCTestCase {
    /// An editor route that answers 404 for an application that does not exist once the caller may edit: 404 means
    /// the token was let through, 403 that its role is short, 401 that it is not accepted at all.
    static let editorRoute = "/api/v1/applications/absent/sync"

    func makeToken(_ client: WebClient, role: String) throws -> String {
        let page = try client.get("/tokens")
        let created = try client.post("/tokens", ["_csrf": try XCTUnwrap(WebClient.csrf(in: page.body)),
                                                  "name": "ci-\(role)", "role": role])
        XCTAssertEqual(created.status, 200, created.body)
        return try XCTUnwrap(created.body.range(of: #"<pre id="new-token">"#).map {
            String(created.body[$0.upperBound...].prefix { $0 != "<" })
        })
    }

    func statuses(_ server: ServerProcess, _ token: String) async throws -> (read: Int, edit: Int) {
        let bearer = ["Authorization": "Bearer \(token)"]
        let read = try await server.request("GET", "/api/v1/deployments", headers: bearer, auth: false).status
        let edit = try await server.request("POST", Self.editorRoute, body: Data("{}".utf8), headers: bearer, auth: false).status
        return (read, edit)
    }

    func restart(_ server: ServerProcess, replacing old: String, with new: String) async throws {
        server.stop()
        let config = try String(contentsOfFile: server.configPath, encoding: .utf8)
        XCTAssertTrue(config.contains(old))
        try config.replacingOccurrences(of: old, with: new).write(toFile: server.configPath, atomically: true, encoding: .utf8)
        try await server.start()
    }

    func testTokenOfAUserAddedInTheUIFollowsItsOwner() async throws {
        let users = usersYAML([("root", "root-password", "admin")])
        let server = try ServerProcess(root: try makeTempDir(), git: nil, extraYAML: users)
        try await server.start()
        defer { server.stop() }
        let admin = try WebClient(base: server.url)
        XCTAssertEqual(try admin.login("root", "root-password").status, 303)
        let adminCSRF = try XCTUnwrap(WebClient.csrf(in: try admin.get("/users").body))
        XCTAssertEqual(try admin.post("/users", ["_csrf": adminCSRF, "name": "dora", "password": "dora-password",
                                                 "role": "editor"]).status, 303)
        let dora = try WebClient(base: server.url)
        XCTAssertEqual(try dora.login("dora", "dora-password").status, 303)
        let token = try makeToken(dora, role: "editor")

        var now = try await statuses(server, token)
        XCTAssertEqual(now.read, 200)
        XCTAssertEqual(now.edit, 404, "an editor's token edits")

        // Demoted: the config pins dora to viewer (the config's word wins over the store's).
        let pinned = users + "\n  - {name: dora, passwordHash: '\(bcryptHash("dora-password", cost: 4))', role: viewer}"
        try await restart(server, replacing: users, with: pinned)
        now = try await statuses(server, token)
        XCTAssertEqual(now.read, 200, "still a viewer")
        XCTAssertEqual(now.edit, 403, "the token shrinks with its owner")

        // Deleted (the admin's session outlived the restart): nothing is left.
        let csrf = try XCTUnwrap(WebClient.csrf(in: try admin.get("/users").body))
        XCTAssertEqual(try admin.post("/users/dora/delete", ["_csrf": csrf]).status, 303)
        try await restart(server, replacing: pinned, with: users)
        now = try await statuses(server, token)
        XCTAssertEqual(now.read, 401)
        XCTAssertEqual(now.edit, 401)
    }

    func testTokenOfAConfigUserFollowsTheConfigAcrossRestarts() async throws {
        let root = usersYAML([("root", "root-password", "admin")])
        let aliceHash = bcryptHash("alice-password", cost: 4)
        let editor = root + "\n  - {name: alice, passwordHash: '\(aliceHash)', role: editor}"
        let server = try ServerProcess(root: try makeTempDir(), git: nil, extraYAML: editor)
        try await server.start()
        defer { server.stop() }
        let alice = try WebClient(base: server.url)
        XCTAssertEqual(try alice.login("alice", "alice-password").status, 303)
        let token = try makeToken(alice, role: "editor")

        var now = try await statuses(server, token)
        XCTAssertEqual(now.read, 200)
        XCTAssertEqual(now.edit, 404, "an editor's token edits")

        // Demoted in gantry.yaml.
        let viewer = root + "\n  - {name: alice, passwordHash: '\(aliceHash)', role: viewer}"
        try await restart(server, replacing: editor, with: viewer)
        now = try await statuses(server, token)
        XCTAssertEqual(now.read, 200)
        XCTAssertEqual(now.edit, 403, "the token shrinks with its owner")

        // Removed from gantry.yaml: the token is refused, though nobody revoked it.
        try await restart(server, replacing: viewer, with: root)
        now = try await statuses(server, token)
        XCTAssertEqual(now.read, 401)
        XCTAssertEqual(now.edit, 401)
    }
}
