import Foundation
import FunctionKit
import Hummingbird
import Store

/// What the API handlers need; the server builds it once.
struct APIContext: Sendable {
    let store: any ServerStore
    let auth: TokenAuth
    let repositories: [ServerConfig.Repository]
    let wakeEngine: @Sendable () -> Void
    let wakePlanner: @Sendable () -> Void
}

func addAPIRoutes(to router: Router<BasicRequestContext>, api: APIContext) {
    router.get("/healthz") { _, _ in json(Message(status: "ok", reason: "")) }

    let v1 = router.group("/api/v1")
    v1.get("/deployments") { request, _ -> Response in
        guard api.auth.authenticate(request) != nil else { return unauthorized() }
        let app = request.uri.queryParameters.get("application")
        let limit = request.uri.queryParameters.get("limit").flatMap(Int.init).map { min(max($0, 1), 1000) } ?? 100
        let list = try await api.store.deployments(application: app, limit: limit)
        return json(DeploymentList(deployments: list.map { DeploymentView($0) }))
    }
    v1.get("/deployments/:id") { request, context -> Response in
        guard api.auth.authenticate(request) != nil else { return unauthorized() }
        let id = context.parameters.get("id") ?? ""
        guard let detail = try await api.store.deployment(id: id) else { return problem(.notFound, "no deployment \(id)") }
        var byStage: [Int: [String]] = [:]
        for entry in try await api.store.logs(deploymentID: id, stageIndex: nil, afterID: 0) {
            byStage[entry.line.stageIndex, default: []].append(entry.line.line)
        }
        var reports: [Int: String] = [:]
        for invocation in try await api.store.invocations(deploymentID: id, stageIndex: nil) {
            if let report = invocation.reportJSON { reports[invocation.stageIndex] = report }
        }
        return json(DeploymentView(detail, logs: byStage, reports: reports))
    }
    v1.get("/deployments/:id/stages/:index/attempts") { request, context -> Response in
        guard api.auth.authenticate(request) != nil else { return unauthorized() }
        let id = context.parameters.get("id") ?? ""
        guard let index = context.parameters.get("index").flatMap(Int.init) else { return problem(.badRequest, "bad stage index") }
        guard let detail = try await api.store.deployment(id: id), detail.stages.contains(where: { $0.index == index }) else {
            return problem(.notFound, "no stage \(index) in deployment \(id)")
        }
        let list = try await api.store.invocations(deploymentID: id, stageIndex: index)
        return json(InvocationList(attempts: list.map(InvocationView.init)))
    }
    v1.get("/deployments/:id/logs") { request, context -> Response in
        guard api.auth.authenticate(request) != nil else { return unauthorized() }
        let id = context.parameters.get("id") ?? ""
        guard let detail = try await api.store.deployment(id: id) else { return problem(.notFound, "no deployment \(id)") }
        let after = request.uri.queryParameters.get("after").flatMap(Int64.init) ?? 0
        let lines = try await api.store.logs(deploymentID: id, stageIndex: nil, afterID: after).map {
            LogLineView(id: $0.id, stage: $0.line.stageIndex, attempt: $0.line.attempt, at: RFC3339.format($0.line.at),
                        line: $0.line.line)
        }
        return json(LogList(lines: lines, status: detail.deployment.status.rawValue))
    }
    v1.post("/deployments/:id/approve") { request, context -> Response in
        guard let who = api.auth.authenticate(request) else { return unauthorized() }
        return try await approve(api: api, id: context.parameters.get("id") ?? "", approver: who, request: request)
    }
    v1.post("/deployments/:id/cancel") { request, context -> Response in
        guard api.auth.authenticate(request) != nil else { return unauthorized() }
        struct Body: Decodable { var rollback: Bool? }
        let id = context.parameters.get("id") ?? ""
        let body = try? await request.decodeJSONBody(Body.self)
        guard try await api.store.deployment(id: id) != nil else { return problem(.notFound, "no deployment \(id)") }
        guard try await api.store.requestCancel(deploymentID: id, rollback: body?.rollback ?? true) else {
            return problem(.conflict, "deployment \(id) has already finished")
        }
        api.wakeEngine()
        return json(Message(status: "cancelling", reason: "", id: id), status: .accepted)
    }
    v1.get("/applications") { request, _ -> Response in
        guard api.auth.authenticate(request) != nil else { return unauthorized() }
        return json(ApplicationList(applications: try await api.store.applications(repository: nil).map(ApplicationView.init)))
    }
    v1.post("/applications/:name/sync") { request, context -> Response in
        guard let who = api.auth.authenticate(request) else { return unauthorized() }
        struct Body: Decodable { var strategy: String? }
        let name = context.parameters.get("name") ?? ""
        guard let app = try await api.store.application(named: name) else { return problem(.notFound, "no application \(name)") }
        let body = try? await request.decodeJSONBody(Body.self)
        guard let strategy = SyncStrategy(rawValue: body?.strategy ?? "auto") else {
            return problem(.badRequest, "strategy must be auto, quick-sync or pipeline")
        }
        let branch = api.repositories.first { $0.id == app.repository }?.branch ?? "main"
        let id = try await api.store.addTrigger(NewTrigger(repository: app.repository, ref: "refs/heads/\(branch)",
                                                           commit: nil, kind: .manual, application: name,
                                                           strategy: strategy, commitMessage: "", author: who))
        api.wakePlanner()
        return json(Message(status: "accepted", reason: "sync of \(name) queued", id: String(id)), status: .accepted)
    }
}

func unauthorized() -> Response {
    var r = problem(.unauthorized, "a valid bearer token is required (Authorization: Bearer <token>)")
    r.headers[.wwwAuthenticate] = "Bearer"
    return r
}

/// Records an approval for the deployment's stage that waits for one; `approvers` in the stage's `with` is
/// enforced here too, so a refused approver learns it at once instead of the stage silently ignoring them.
private func approve(api: APIContext, id: String, approver: String, request: Request) async throws -> Response {
    struct Body: Decodable { var stage: Int? }
    guard let detail = try await api.store.deployment(id: id) else { return problem(.notFound, "no deployment \(id)") }
    let body = try? await request.decodeJSONBody(Body.self)
    let waiting = detail.stages.first { s in
        s.name == "WAIT_APPROVAL" && (body?.stage.map { $0 == s.index } ?? true)
            && (s.status == .suspended || s.status == .running || s.status == .notStarted)
    }
    guard let stage = waiting, detail.deployment.status == .running else {
        return problem(.conflict, "deployment \(id) has no stage waiting for approval")
    }
    let with: JSONValue = (try? JSONValue.decode(stage.withJSON)) ?? .object([:])
    let listed: [JSONValue] = with["approvers"]?.array ?? []
    let allowed: [String] = listed.compactMap { $0.string }
    if !allowed.isEmpty && !allowed.contains(approver) {
        return problem(.forbidden, "\(approver) is not among the approvers of stage \(stage.index): \(allowed.joined(separator: ", "))")
    }
    try await api.store.addApproval(Approval(deploymentID: id, stageIndex: stage.index, approver: approver))
    api.wakeEngine()
    return json(Message(status: "approved", reason: "approved by \(approver)", id: id), status: .accepted)
}
