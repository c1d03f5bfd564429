import Foundation
import Hummingbird
import Store

/// The web UI: server-rendered pages under `/`, forms posting back with a CSRF token, live updates over SSE.
func addWebRoutes(to router: Router<BasicRequestContext>, web: WebContext) {
    // Applies to the routes added from here on: the pages, their actions and the insights API.
    router.add(middleware: ServerTiming())
    router.get("/") { _, _ in redirect("/applications") }
    router.get("/static/gantry.css") { _, _ in asset(Assets.stylesheet, type: "text/css; charset=utf-8") }
    router.get("/static/gantry.js") { _, _ in asset(Assets.script, type: "text/javascript; charset=utf-8") }
    addLoginRoutes(to: router, web: web)
    addAccountPages(to: router, web: web)
    addLiveUpdates(to: router, web: web)
    addInsightsRoutes(to: router, web: web)

    router.get("/applications") { request, _ -> Response in
        let user = try await web.requireUser(.viewer, request)
        return web.page("applications", title: "Applications", user: user, ["apps": try await applicationRows(web)],
                        notice: request.uri.queryParameters.get("notice"))
    }

    router.get("/applications/:name") { request, context -> Response in
        let user = try await web.requireUser(.viewer, request)
        let name = context.parameters.get("name") ?? ""
        guard let app = try await web.store.application(named: name) else { return notFound(web, user, "No application \(name)") }
        let history = try await web.store.deployments(application: name, limit: 50)
        var values = PageModels.application(app, last: history.first?.deployment)
        values["history"] = history.map { PageModels.historyRow($0.deployment) }
        values["canEdit"] = user.role >= .editor
        return web.page("application", title: name, user: user, values, notice: request.uri.queryParameters.get("notice"))
    }

    router.post("/applications/:name/sync") { request, context -> Response in
        let (user, form) = try await web.requireForm(.editor, request)
        let name = context.parameters.get("name") ?? ""
        guard let app = try await web.store.application(named: name) else { throw Refusal(status: .notFound, reason: "no application \(name)") }
        guard let strategy = SyncStrategy(rawValue: form["strategy"] ?? "auto") else {
            throw Refusal(status: .badRequest, reason: "strategy must be auto, quick-sync or pipeline")
        }
        _ = try await queueSync(api: web.api, app: app, strategy: strategy, by: user.name)
        return redirect("/applications/\(formEscape(name))?notice=" + formEscape("sync of \(name) queued by \(user.name)"))
    }

    router.get("/deployments/:id") { request, context -> Response in
        let user = try await web.requireUser(.viewer, request)
        let id = context.parameters.get("id") ?? ""
        guard let detail = try await web.store.deployment(id: id) else { return notFound(web, user, "No deployment \(id)") }
        var values = try await pipelineValues(web, detail, user: user)
        var byStage: [Int: [String]] = [:]
        var lastID: Int64 = 0
        for entry in try await web.store.logs(deploymentID: id, stageIndex: nil, afterID: 0) {
            byStage[entry.line.stageIndex, default: []].append(entry.line.line)
            lastID = entry.id
        }
        values["lastLogID"] = lastID
        values["stages"] = detail.stages.map { s -> [String: Any] in
            ["index": s.index, "name": s.name + (s.rollback ? " (rollback)" : ""),
             "logText": (byStage[s.index] ?? []).map { $0 + "\n" }.joined()]
        }
        return web.page("deployment", title: "\(detail.deployment.application) \(id.prefix(8))", user: user, values,
                        notice: request.uri.queryParameters.get("notice"))
    }

    router.post("/deployments/:id/approve") { request, context -> Response in
        let (user, form) = try await web.requireForm(.editor, request)
        let id = context.parameters.get("id") ?? ""
        let outcome = try await web.actions.approve(id: id, stage: form["stage"].flatMap(Int.init), approver: user.name)
        return actionAnswer(outcome, back: "/deployments/\(id)")
    }

    router.post("/deployments/:id/cancel") { request, context -> Response in
        let (_, form) = try await web.requireForm(.editor, request)
        let id = context.parameters.get("id") ?? ""
        let outcome = try await web.actions.cancel(id: id, rollback: form["rollback"] != "0")
        return actionAnswer(outcome, back: "/deployments/\(id)")
    }

    router.post("/deployments/:id/stages/:index/skip") { request, context -> Response in
        let (user, _) = try await web.requireForm(.editor, request)
        let id = context.parameters.get("id") ?? ""
        guard let index = context.parameters.get("index").flatMap(Int.init) else { throw Refusal(status: .badRequest, reason: "bad stage index") }
        let outcome = try await web.actions.skip(id: id, stage: index, by: user.name, console: web.store)
        return actionAnswer(outcome, back: "/deployments/\(id)")
    }

    router.get("/deliveries") { request, _ -> Response in
        let user = try await web.requireUser(.viewer, request)
        var bindings: [[String: Any]] = []
        for binding in web.ingress.bindingIDs.sorted() {
            let history = try await deliveryHistory(binding: binding, limit: 30, store: web.store, ingress: web.ingress)
            let rows = history.map { record, recorded -> [String: Any] in
                ["received": Show.time(record.receivedAt), "event": record.event, "verdict": record.verdict.rawValue,
                 "reason": record.reason, "deliveryID": record.deliveryID, "recorded": recorded]
            }
            bindings.append(["binding": binding, "deliveries": Array(rows)])
        }
        return web.page("deliveries", title: "Deliveries", user: user, ["bindings": bindings])
    }
}

func applicationRows(_ web: WebContext) async throws -> [[String: Any]] {
    let apps = try await web.store.applications(repository: nil)
    let latest = try await web.store.latestDeployments(applications: apps.map(\.name))
    return apps.map { PageModels.application($0, last: latest[$0.name]) }
}

/// The stage graph's values, with who approved which stage.
func pipelineValues(_ web: WebContext, _ detail: DeploymentDetail, user: Identity) async throws -> [String: Any] {
    var approvals: [Int: [String]] = [:]
    for s in detail.stages where s.name == "WAIT_APPROVAL" {
        approvals[s.index] = try await web.store.approvals(deploymentID: detail.deployment.id, stageIndex: s.index).map(\.approver)
    }
    return PageModels.pipeline(detail, approvals: approvals, user: user)
}

private func notFound(_ web: WebContext, _ user: Identity, _ heading: String) -> Response {
    web.page("message", title: "Not found", user: user, ["heading": heading, "back": "/applications"], status: .notFound)
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
