import Foundation
import GantrySupport
import XCTest
@testable import Server
import GantryAPI
import SQLiteStore
import Store

/// The four keys on a seeded history, against values worked out by hand (in the comments), through the real
/// server's `GET /api/v1/insights` and its insights page.
final class InsightsTests: XCTestCase {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// (id, application, commit time, completed, status)
    static let history: [(String, String, String?, String, DeploymentStatus)] = [
        // Monday 2026-01-05, api: success (lead 2h), failure, success (lead 1h; restored after 1h)
        ("d1", "api", "2026-01-05T08:00:00Z", "2026-01-05T10:00:00Z", .success),
        ("d2", "api", "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z", .failure),
        ("d3", "api", "2026-01-05T11:00:00Z", "2026-01-05T12:00:00Z", .success),
        // Tuesday, web: success (lead 6h), two failures, success (lead 30m; restored 2h after the first failure)
        ("d4", "web", "2026-01-06T00:00:00Z", "2026-01-06T06:00:00Z", .success),
        ("d5", "web", "2026-01-06T06:30:00Z", "2026-01-06T07:00:00Z", .failure),
        ("d6", "web", "2026-01-06T07:30:00Z", "2026-01-06T08:00:00Z", .failure),
        ("d7", "web", "2026-01-06T08:30:00Z", "2026-01-06T09:00:00Z", .success),
        // Cancelled deployments are neither successes nor failures.
        ("d8", "api", "2026-01-06T09:30:00Z", "2026-01-06T10:00:00Z", .cancelled),
        // Outside the window.
        ("d9", "api", "2026-01-09T09:30:00Z", "2026-01-09T10:00:00Z", .failure),
    ]

    static func seed(_ path: String) async throws {
        let store = try SQLiteStore(path: path)
        let apps = [Application(name: "api", repository: "demo", path: "api", configFile: "api/app.gantry.yaml", kind: "App"),
                    Application(name: "web", repository: "demo", path: "web", configFile: "web/app.gantry.yaml", kind: "App")]
        var labelled = apps
        labelled[0].labels = ["team": "payments"]
        labelled[1].labels = ["team": "storefront"]
        try await store.commitPlan(PlanOutcome(triggerID: 0, applications: labelled, deployments: history.map { id, app, commit, done, _ in
            DeploymentDetail(deployment: Deployment(
                id: id, application: app, repository: "demo", appPath: app, platform: nil, commit: id + "c0ffee", runningCommit: nil,
                triggerKind: .webhook, commitMessage: "m", author: "a", strategy: .pipeline, summary: "",
                createdAt: at(done).addingTimeInterval(-600), commitTime: commit.map(at)), stages: [])
        }))
        for (id, _, _, done, status) in history {
            try await store.apply([.deployment(status: status, reason: "")], to: id, now: at(done))
        }
    }

    func testFourKeysMatchHandComputedValues() async throws {
        let root = try makeTempDir()
        let server = try ServerProcess(root: root, git: nil)
        try await InsightsTests.seed(DataLayout.database(server.dataDir))
        try await server.start()

        let day = try await server.request("GET", "/api/v1/insights?period=day&from=2026-01-05&to=2026-01-08")
        XCTAssertEqual(day.status, 200, String(decoding: day.data, as: UTF8.self))
        let insights = try JSONDecoder().decode(Insights.self, from: day.data)
        XCTAssertEqual(insights.deployments, 7)
        // 4 successes over 3 days: 2, 2, 0.
        XCTAssertEqual(insights.deploymentFrequency.count, 4)
        XCTAssertEqual(try XCTUnwrap(insights.deploymentFrequency.value), 4.0 / 3.0, accuracy: 1e-9)
        XCTAssertEqual(insights.deploymentFrequency.series.map(\.start), ["2026-01-05", "2026-01-06", "2026-01-07"])
        XCTAssertEqual(insights.deploymentFrequency.series.map(\.value), [2, 2, 0])
        // 3 failures of 7: Monday 1/3, Tuesday 2/4, Wednesday nothing.
        XCTAssertEqual(try XCTUnwrap(insights.changeFailureRate.value), 3.0 / 7.0, accuracy: 1e-9)
        XCTAssertEqual(insights.changeFailureRate.series[0].value!, 1.0 / 3.0, accuracy: 1e-9)
        XCTAssertEqual(insights.changeFailureRate.series[1].value, 0.5)
        XCTAssertNil(insights.changeFailureRate.series[2].value)
        // Lead times 2h, 1h, 6h, 30m: mean 2h22m30s = 8550 s; Monday 5400, Tuesday 11700.
        XCTAssertEqual(insights.leadTimeForChanges.value, 8550)
        XCTAssertEqual(insights.leadTimeForChanges.series.map(\.value), [5400, 11700, nil])
        // Restores: api 1h (11:00 → 12:00), web 2h (07:00 → 09:00): mean 5400 s.
        XCTAssertEqual(insights.meanTimeToRestore.value, 5400)
        XCTAssertEqual(insights.meanTimeToRestore.series.map(\.value), [3600, 7200, nil])

        // Per label (team=payments is api): 2 successes, 1 failure, leads 2h and 1h, one restore of 1h.
        let label = try await server.request("GET", "/api/v1/insights?period=day&from=2026-01-05&to=2026-01-08&label=team%3Dpayments")
        let payments = try JSONDecoder().decode(Insights.self, from: label.data)
        XCTAssertEqual(payments.applications, ["api"])
        XCTAssertEqual(payments.deploymentFrequency.count, 2)
        XCTAssertEqual(try XCTUnwrap(payments.changeFailureRate.value), 1.0 / 3.0, accuracy: 1e-9)
        XCTAssertEqual(payments.leadTimeForChanges.value, 5400)
        XCTAssertEqual(payments.meanTimeToRestore.value, 3600)

        // Per application and per week: web alone, one ISO week (Monday 2026-01-05) holding 2 successes.
        let week = try await server.request("GET", "/api/v1/insights?period=week&from=2026-01-05&to=2026-01-12&application=web")
        let web = try JSONDecoder().decode(Insights.self, from: week.data)
        XCTAssertEqual(web.deploymentFrequency.series.map(\.start), ["2026-01-05"])
        XCTAssertEqual(web.deploymentFrequency.value, 2)
        XCTAssertEqual(web.changeFailureRate.value, 0.5)
        XCTAssertEqual(web.leadTimeForChanges.value, (21600 + 1800) / 2)
        XCTAssertEqual(web.meanTimeToRestore.value, 7200)
        // A month bucket starts on the 1st.
        let month = try await server.request("GET", "/api/v1/insights?period=month&from=2026-01-01&to=2026-02-01")
        XCTAssertEqual(try JSONDecoder().decode(Insights.self, from: month.data).deploymentFrequency.series.map(\.value), [4])

        let bad = try await server.request("GET", "/api/v1/insights?period=fortnight")
        XCTAssertEqual(bad.status, 400)
        let anonymous = try await server.request("GET", "/api/v1/insights", auth: false)
        XCTAssertEqual(anonymous.status, 401)
    }

    func testInsightsPageDrawsTheFiguresAsSVG() async throws {
        let root = try makeTempDir()
        let server = try ServerProcess(root: root, git: nil, extraYAML: usersYAML([("vera", "vera-password", "viewer")]))
        try await InsightsTests.seed(DataLayout.database(server.dataDir))
        try await server.start()
        let browser = try WebClient(base: server.url)
        try browser.login("vera", "vera-password")
        let page = try browser.get("/insights?period=day&from=2026-01-05&to=2026-01-08")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.body.components(separatedBy: "<svg class=\"bars\"").count - 1, 4, "four charts")
        for figure in ["1.33 per day", "42.9 %", "2h22m30s", "1h30m"] {
            XCTAssertTrue(page.body.contains(figure), "insights page lacks \(figure)")
        }
    }
}
