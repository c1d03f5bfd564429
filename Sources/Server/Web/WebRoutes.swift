import Accounts
import Foundation
import Hummingbird
import Store

/// The web UI: server-rendered pages under `/`, forms posting back with a CSRF token, live updates over SSE.
/// Pages and forms sit in the group of the role they need; the session cookie is read once, by the group.
func addWebRoutes(to router: GantryRouter, web: WebContext) {
    // Applies to the routes added from here on: the pages, their actions and the insights API.
    router.add(middleware: ServerTiming())
    router.get("/") { _, _ in redirect("/applications") }
    router.get("/static/gantry.css") { _, _ in asset(Assets.stylesheet, type: "text/css; charset=utf-8") }
    router.get("/static/gantry.js") { _, _ in asset(Assets.script, type: "text/javascript; charset=utf-8") }
    let site = router.group().add(middleware: SessionAuthenticator(accounts: web.accounts))
    addLoginRoutes(to: site, web: web)
    addAccountPages(to: site, web: web)
    addLiveUpdates(to: site.requiring(.viewer, as: .page), web: web)
    addInsightsRoutes(to: router, site: site, web: web)
    addApplicationPages(to: site.requiring(.viewer, as: .page), web: web)
    addDeploymentForms(to: site.requiring(.editor, as: .form), web: web)
    addOutboxPages(viewerPages: site.requiring(.viewer, as: .page), adminForms: site.requiring(.admin, as: .form), web: web)
}

private func addApplicationPages(to viewer: GantryRoutes, web: WebContext) {
    viewer.get("/applications") { request, context -> Response in
        web.page("applications", title: "Applications", user: try context.principal(),
                 ApplicationsPage(apps: try await applicationRows(web)), notice: request.uri.queryParameters.get("notice"))
    }

    viewer.get("/applications/:name") { request, context -> Response in
        let user = try context.principal()
        let name = context.parameters.get("name") ?? ""
        guard let app = try await web.store.application(named: name) else { return notFound(web, user, "No application \(name)") }
        let history = try await web.store.deployments(application: name, limit: 50).map(\.deployment)
        let model = ApplicationPage(ApplicationModel(app, last: history.first), history: history, canEdit: user.role >= .editor)
        return web.page("application", title: name, user: user, model, notice: request.uri.queryParameters.get("notice"))
    }

    viewer.get("/deployments/:id") { request, context -> Response in
        let user = try context.principal()
        let id = context.parameters.get("id") ?? ""
        guard let detail = try await web.store.deployment(id: id) else { return notFound(web, user, "No deployment \(id)") }
        var byStage: [Int: [String]] = [:]
        var lastID: Int64 = 0
        for entry in try await web.store.logs(deploymentID: id, stageIndex: nil, afterID: 0) {
            byStage[entry.line.stageIndex, default: []].append(entry.line.line)
            lastID = entry.id
        }
        let model = DeploymentPage(id: id, pipeline: try await pipelineModel(web, detail, user: user), lastLogID: lastID,
                                   stages: detail.stages.map { s in
                                       DeploymentPage.LogStage(index: s.index, name: s.name + (s.rollback ? " (rollback)" : ""),
                                                               logText: (byStage[s.index] ?? []).map { $0 + "\n" }.joined())
                                   })
        return web.page("deployment", title: "\(detail.deployment.application) \(id.prefix(8))", user: user, model,
                        notice: request.uri.queryParameters.get("notice"))
    }

    viewer.get("/deliveries") { _, context -> Response in
        var bindings: [DeliveriesPage.Binding] = []
        for binding in web.ingress.bindingIDs.sorted() {
            let history = try await deliveryHistory(binding: binding, limit: 30, store: web.store, ingress: web.ingress)
            bindings.append(DeliveriesPage.Binding(binding: binding, deliveries: history.map { record, recorded in
                DeliveriesPage.Row(received: Show.time(record.receivedAt), event: record.event, verdict: record.verdict.rawValue,
                                   reason: record.reason, deliveryID: record.deliveryID, recorded: recorded)
            }))
        }
        return web.page("deliveries", title: "Deliveries", user: try context.principal(), DeliveriesPage(bindings: bindings))
    }
}

private func addDeploymentForms(to editor: GantryRoutes, web: WebContext) {
    editor.post("/applications/:name/sync") { _, context -> Response in
        let user = try context.principal()
        let name = context.parameters.get("name") ?? ""
        guard let app = try await web.store.application(named: name) else { throw Refusal(status: .notFound, reason: "no application \(name)") }
        guard let strategy = SyncStrategy(rawValue: context.form["strategy"] ?? "auto") else {
            throw Refusal(status: .badRequest, reason: "strategy must be auto, quick-sync or pipeline")
        }
        _ = try await queueSync(api: web.api, app: app, strategy: strategy, by: user.name)
        return redirect("/applications/\(formEscape(name))?notice=" + formEscape("sync of \(name) queued by \(user.name)"))
    }

    editor.post("/deployments/:id/approve") { _, context -> Response in
        let id = context.parameters.get("id") ?? ""
        let outcome = try await web.actions.approve(id: id, stage: context.form["stage"].flatMap(Int.init),
                                                    approver: try context.principal().name)
        return actionAnswer(outcome, back: "/deployments/\(id)")
    }

    editor.post("/deployments/:id/cancel") { _, context -> Response in
        let id = context.parameters.get("id") ?? ""
        let outcome = try await web.actions.cancel(id: id, rollback: context.form["rollback"] != "0")
        return actionAnswer(outcome, back: "/deployments/\(id)")
    }

    editor.post("/deployments/:id/stages/:index/skip") { _, context -> Response in
        let id = context.parameters.get("id") ?? ""
        guard let index = context.parameters.get("index").flatMap(Int.init) else { throw Refusal(status: .badRequest, reason: "bad stage index") }
        let outcome = try await web.actions.skip(id: id, stage: index, by: try context.principal().name, console: web.store)
        return actionAnswer(outcome, back: "/deployments/\(id)")
    }
}

func applicationRows(_ web: WebContext) async throws -> [ApplicationModel] {
    let apps = try await web.store.applications(repository: nil)
    let latest = try await web.store.latestDeployments(applications: apps.map(\.name))
    return apps.map { ApplicationModel($0, last: latest[$0.name]) }
}

/// The stage graph, with who approved which stage.
func pipelineModel(_ web: WebContext, _ detail: DeploymentDetail, user: Principal) async throws -> PipelineModel {
    var approvals: [Int: [String]] = [:]
    for s in detail.stages where s.name == "WAIT_APPROVAL" {
        approvals[s.index] = try await web.store.approvals(deploymentID: detail.deployment.id, stageIndex: s.index).map(\.approver)
    }
    return PipelineModel(detail, approvals: approvals, user: user)
}

func notFound(_ web: WebContext, _ user: Principal, _ heading: String) -> Response {
    web.page("message", title: "Not found", user: user, MessagePage(heading: heading, back: "/applications"), status: .notFound)
}

/// After a form action: back to the page with what happened, or a page saying why not (with its status).
private func actionAnswer(_ outcome: DeploymentActions.Outcome, back: String) -> Response {
    guard outcome.status == .accepted else { return problemPage(outcome.status, outcome.reason) }
    return redirect(back + "?notice=" + formEscape(outcome.reason))
}

func problemPage(_ status: HTTPResponse.Status, _ reason: String) -> Response {
    let escaped = reason.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    return html("<!doctype html><title>\(status.code)</title><link rel=\"stylesheet\" href=\"/static/gantry.css\"><main><h1>\(status.code) \(status.reasonPhrase)</h1><p class=\"error\">\(escaped)</p><p><a href=\"javascript:history.back()\">Back</a></p></main>",
                status: status)
}

private func asset(_ text: String, type: String) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = type
    headers[.cacheControl] = "public, max-age=300"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
}
