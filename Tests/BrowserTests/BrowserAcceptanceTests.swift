import Foundation
import GantrySupport
import XCTest

/// The web UI's acceptance in a real browser: headless chromium (Debian's), driven over the DevTools protocol by
/// Tests/Browser/deployment_page.py, against a real server and a real pushed commit. The screenshot of the
/// deployment page is written to .build/screenshots/deployment-page.png (and its path printed).
final class BrowserAcceptanceTests: XCTestCase {
    func testLoginPushWatchLiveApproveAndViewerInChromium() async throws {
        let (git, server, firstID) = try await launchWithApprovalApp(users: [("alice", "alice-password", "editor"),
                                                                              ("victor", "victor-password", "viewer")])
        // The first deployment, approved through the API, so the app is known and idle when the browser arrives.
        _ = try await server.request("POST", "/api/v1/deployments/\(firstID)/approve")
        let firstDone = try await server.waitForDeployment(firstID)
        XCTAssertEqual(firstDone.status, "SUCCESS")

        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let script = sourceRoot.appendingPathComponent("Browser/deployment_page.py").path
        let shots = sourceRoot.deletingLastPathComponent().appendingPathComponent(".build/screenshots").path
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let screenshot = shots + "/deployment-page.png"
        try? FileManager.default.removeItem(atPath: screenshot)
        let output: String
        do {
            output = try sh(["python3", script], env: [
                "GANTRY_URL": server.url, "GANTRY_TOKEN": server.token, "EDITOR": "alice:alice-password",
                "VIEWER": "victor:victor-password", "GIT_WORK": git.work, "SCREENSHOT": screenshot,
            ])
        } catch {
            XCTFail("browser acceptance failed: \(error)\nserver log:\n\(server.logText().suffix(4000))")
            return
        }
        print(output)
        XCTAssertTrue(output.contains("viewer sees no buttons"), output)
        // A PNG, and not an empty one.
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertGreaterThan(png.count, 10_000)
        let latest = try await server.deployments().first
        XCTAssertEqual(latest?.status, "SUCCESS")
        // Live streams end with a graceful stop: a page left open does not hold the server up.
        let stopping = Date()
        server.stop()
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 10, "SIGTERM waited for the event streams")
    }
}
