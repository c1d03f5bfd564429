import Accounts
import DeliveryInsights
import Foundation
import GantryAPI
import Hummingbird
import Store

/// `GET /api/v1/insights` (bearer token, viewer) and the `/insights` page, with the same query:
/// `application=NAME` or `label=KEY=VALUE`, `period=day|week|month`, `from=YYYY-MM-DD`, `to=YYYY-MM-DD` (exclusive).
func addInsightsRoutes(to router: GantryRouter, site: GantryRoutes, web: WebContext) {
    let api = router.group("/api/v1").add(middleware: BearerAuthenticator(accounts: web.accounts)).requiring(.viewer, as: .api)
    api.get("/insights") { request, _ -> Response in
        json(try await computeInsights(web, request))
    }

    site.requiring(.viewer, as: .page).get("/insights") { request, context -> Response in
        let user = try context.principal()
        let insights = try await computeInsights(web, request)
        let q = request.uri.queryParameters
        let apps = try await web.store.applications(repository: nil)
        let unit = insights.period.rawValue
        let charts = [
            chart("Deployment frequency", insights.deploymentFrequency,
                  summary: insights.deploymentFrequency.value.map { String(format: "%.2f per %@", $0, unit) } ?? "no data",
                  explain: "successful deployments per \(unit)") { String(format: "%.0f", $0) },
            chart("Change failure rate", insights.changeFailureRate,
                  summary: insights.changeFailureRate.value.map { String(format: "%.1f %%", $0 * 100) } ?? "no data",
                  explain: "failed / (successful + failed) deployments") { String(format: "%.0f%%", $0 * 100) },
            chart("Lead time for changes", insights.leadTimeForChanges,
                  summary: insights.leadTimeForChanges.value.map { Show.duration($0) } ?? "no data",
                  explain: "commit time to successful deployment (mean)") { Charts.shortDuration($0) },
            chart("Mean time to restore", insights.meanTimeToRestore,
                  summary: insights.meanTimeToRestore.value.map { Show.duration($0) } ?? "no data",
                  explain: "failed deployment to the next successful one (mean)") { Charts.shortDuration($0) },
        ]
        var apiURL = "/api/v1/insights?period=\(unit)&from=\(insights.from)&to=\(insights.to)"
        if let a = q.get("application"), !a.isEmpty { apiURL += "&application=" + formEscape(a) }
        if let l = q.get("label"), !l.isEmpty { apiURL += "&label=" + formEscape(l) }
        return web.page("insights", title: "Insights", user: user, InsightsPage(
            applications: apps.map { InsightsPage.Choice(name: $0.name, selected: $0.name == q.get("application")) },
            label: q.get("label") ?? "",
            periods: Insights.Period.allCases.map { InsightsPage.Period(value: $0.rawValue, selected: $0 == insights.period) },
            from: insights.from, to: insights.to, deployments: insights.deployments, apiURL: apiURL, charts: charts))
    }
}

private func chart(_ title: String, _ metric: Insights.Metric, summary: String, explain: String,
                   format: (Double) -> String) -> InsightsPage.Chart {
    InsightsPage.Chart(title: title, summary: summary, explain: explain, svg: Charts.bars(metric.series, format: format, title: title))
}

func computeInsights(_ web: WebContext, _ request: Request) async throws -> Insights {
    let q = request.uri.queryParameters
    guard let period = Insights.Period(rawValue: q.get("period") ?? "day") else {
        throw Refusal(status: .badRequest, reason: "period must be day, week or month")
    }
    var (from, to) = Insights.defaultWindow(period, now: Date())
    if let text = q.get("from"), !text.isEmpty {
        guard let d = Insights.parseDate(text) else { throw Refusal(status: .badRequest, reason: "from must be YYYY-MM-DD") }
        from = d
    }
    if let text = q.get("to"), !text.isEmpty {
        guard let d = Insights.parseDate(text) else { throw Refusal(status: .badRequest, reason: "to must be YYYY-MM-DD") }
        to = d
    }
    guard from < to else { throw Refusal(status: .badRequest, reason: "from must be before to") }
    guard to.timeIntervalSince(from) <= 3 * 366 * 86400 else { throw Refusal(status: .badRequest, reason: "at most 3 years at once") }
    var apps: [String]? = nil
    if let name = q.get("application"), !name.isEmpty { apps = [name] }
    if let label = q.get("label"), !label.isEmpty {
        let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw Refusal(status: .badRequest, reason: "label must be KEY=VALUE") }
        let labelled = try await web.store.applications(repository: nil).filter { $0.labels[parts[0]] == parts[1] }.map(\.name)
        apps = apps.map { $0.filter(labelled.contains) } ?? labelled
    }
    let outcomes = try await web.store.deploymentOutcomes(from: from, to: to, applications: apps)
    return Insights(outcomes: outcomes, period: period, from: from, to: to, applications: apps)
}
