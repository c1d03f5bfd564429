import Foundation
import GantrySupport
import XCTest
@testable import Server
import Accounts
import Digest
import SQLiteStore
import Store

/// Accounts and roles through the real server: login, hashed sessions, CSRF, viewers who cannot mutate, API
/// tokens made in the UI, and the API enforcing the same roles.
final class WebAccountsTests: XCTestCase {
    func testRolesCSRFSessionsAndTokens() async throws {
        let (_, server, id) = try await launchWithApprovalApp(users: [("alice", "alice-password", "editor"),
                                                                      ("victor", "victor-password", "viewer"),
                                                                      ("root", "root-password", "admin")])

        // Pages need a session; the login page sets none until a password is right.
        let anonymous = try WebClient(base: server.url)
        XCTAssertEqual(try anonymous.get("/applications").status, 303)
        let wrong = try anonymous.login("alice", "not-her-password")
        XCTAssertEqual(wrong.status, 303)
        XCTAssertTrue(wrong.headers.contains("/login?error="), wrong.headers)
        XCTAssertNil(anonymous.cookie("gantry_session"))
        // The login form's CSRF token is checked too.
        XCTAssertEqual(try anonymous.post("/login", ["_csrf": "forged", "username": "alice", "password": "alice-password"]).status, 403)

        // A viewer sees the deployment, without a single button, and a forged POST is refused.
        let viewer = try WebClient(base: server.url)
        let login = try viewer.login("victor", "victor-password")
        XCTAssertEqual(login.status, 303)
        XCTAssertTrue(login.headers.lowercased().contains("httponly"), login.headers)
        XCTAssertTrue(login.headers.contains("SameSite=Strict"), login.headers)
        let viewerPage = try viewer.get("/deployments/\(id)")
        XCTAssertEqual(viewerPage.status, 200)
        XCTAssertTrue(viewerPage.body.contains("WAIT_APPROVAL"))
        for button in ["Approve", "Cancel", "Skip", ">Sync<"] {
            XCTAssertFalse(viewerPage.body.contains(button), "a viewer sees \(button)")
        }
        let viewerCSRF = try XCTUnwrap(WebClient.csrf(in: viewerPage.body))
        let forged = try viewer.post("/deployments/\(id)/approve", ["_csrf": viewerCSRF, "stage": "2"])
        XCTAssertEqual(forged.status, 403, forged.body)
        XCTAssertEqual(try viewer.post("/deployments/\(id)/cancel", ["_csrf": viewerCSRF]).status, 403)

        // The session is stored hashed: the cookie's value is nowhere in the database files, its SHA-256 is.
        let secret = try XCTUnwrap(viewer.cookie("gantry_session"))
        let files = ["", "-wal"].map { DataLayout.database(server.dataDir) + $0 }
        for file in files {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
            XCTAssertNil(bytes.range(of: Data(secret.utf8)), "session secret in clear in \(file)")
        }
        let store = try SQLiteStore(path: DataLayout.database(server.dataDir))
        let stored = try await store.session(tokenHash: Digest.sha256Hex(secret), now: Date())
        XCTAssertEqual(stored?.user, "victor")

        // An editor: a POST without the CSRF token, or with another session's, is refused and changes nothing.
        let editor = try WebClient(base: server.url)
        try editor.login("alice", "alice-password")
        let editorPage = try editor.get("/deployments/\(id)")
        XCTAssertTrue(editorPage.body.contains("id=\"approve-2\""), "the editor has an Approve button")
        XCTAssertEqual(try editor.post("/deployments/\(id)/approve", ["stage": "2"]).status, 403)
        XCTAssertEqual(try editor.post("/deployments/\(id)/approve", ["stage": "2", "_csrf": viewerCSRF]).status, 403)
        let stillWaiting = try await server.deployment(id)
        XCTAssertEqual(stage(stillWaiting, 2)?.status, "SUSPENDED")
        let approved = try editor.post("/deployments/\(id)/approve", ["stage": "2", "_csrf": try XCTUnwrap(WebClient.csrf(in: editorPage.body))])
        XCTAssertEqual(approved.status, 303, approved.body)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        // The approval is recorded with the person's name.
        let approvals = try await store.approvals(deploymentID: id, stageIndex: 2)
        XCTAssertEqual(approvals.map(\.approver), ["alice"])
        XCTAssertTrue(try editor.get("/deployments/\(id)").body.contains("approved by alice"))

        // API tokens made in the UI: shown once, stored hashed, acting as their owner with their role.
        let tokensPage = try viewer.get("/tokens")
        XCTAssertEqual(try viewer.post("/tokens", ["_csrf": try XCTUnwrap(WebClient.csrf(in: tokensPage.body)),
                                                   "name": "too-strong", "role": "editor"]).status, 403)
        let created = try viewer.post("/tokens", ["_csrf": try XCTUnwrap(WebClient.csrf(in: tokensPage.body)),
                                                  "name": "ci-read", "role": "viewer"])
        XCTAssertEqual(created.status, 200)
        let token = try XCTUnwrap(created.body.range(of: #"<pre id="new-token">"#).map {
            String(created.body[$0.upperBound...].prefix { $0 != "<" })
        })
        XCTAssertTrue(token.hasPrefix("gnt_"))
        XCTAssertFalse(try viewer.get("/tokens").body.contains(token), "a token is shown only once")
        let bearer = ["Authorization": "Bearer \(token)"]
        let readWithToken = try await server.request("GET", "/api/v1/deployments", headers: bearer, auth: false)
        XCTAssertEqual(readWithToken.status, 200)
        let refused = try await server.request("POST", "/api/v1/deployments/\(id)/cancel", headers: bearer, auth: false)
        XCTAssertEqual(refused.status, 403, "the API enforces the viewer role")
        let syncWithViewerToken = try await server.request("POST", "/api/v1/applications/hello/sync", headers: bearer, auth: false)
        XCTAssertEqual(syncWithViewerToken.status, 403)
        // Revoked: the token stops working at once.
        let listed = try viewer.get("/tokens")
        let revokePath = try XCTUnwrap(listed.body.range(of: #"action="/tokens/"#).map {
            "/tokens/" + String(listed.body[$0.upperBound...].prefix { $0 != "/" }) + "/revoke"
        })
        XCTAssertEqual(try viewer.post(revokePath, ["_csrf": try XCTUnwrap(WebClient.csrf(in: listed.body))]).status, 303)
        let afterRevoke = try await server.request("GET", "/api/v1/deployments", headers: bearer, auth: false)
        XCTAssertEqual(afterRevoke.status, 401)

        // Config tokens without a role keep every right (admin): the existing CLI flow is unchanged.
        let configTokenSync = try await server.request("POST", "/api/v1/applications/hello/sync", body: Data("{}".utf8))
        XCTAssertEqual(configTokenSync.status, 202)
        // Only admins manage users; logout ends the session.
        XCTAssertEqual(try editor.get("/users").status, 403)
        let admin = try WebClient(base: server.url)
        try admin.login("root", "root-password")
        let usersPage = try admin.get("/users")
        XCTAssertEqual(usersPage.status, 200)
        // A user added in the UI can log in; deleted, their open session ends at once.
        let adminCSRF = try XCTUnwrap(WebClient.csrf(in: usersPage.body))
        XCTAssertEqual(try admin.post("/users", ["_csrf": adminCSRF, "name": "dora", "password": "dora-password", "role": "viewer"]).status, 303)
        XCTAssertEqual(try editor.post("/users", ["_csrf": try XCTUnwrap(WebClient.csrf(in: editorPage.body)), "name": "eve",
                                                  "password": "eve-password", "role": "admin"]).status, 403)
        let dora = try WebClient(base: server.url)
        try dora.login("dora", "dora-password")
        XCTAssertEqual(try dora.get("/applications").status, 200)
        XCTAssertEqual(try admin.post("/users/dora/delete", ["_csrf": adminCSRF]).status, 303)
        XCTAssertEqual(try dora.get("/applications").status, 303)
        let logoutCSRF = try XCTUnwrap(WebClient.csrf(in: try viewer.get("/applications").body))
        XCTAssertEqual(try viewer.post("/logout", ["_csrf": logoutCSRF]).status, 303)
        XCTAssertEqual(try viewer.get("/applications").status, 303)
        let gone = try await store.session(tokenHash: Digest.sha256Hex(secret), now: Date())
        XCTAssertNil(gone)
    }
}
