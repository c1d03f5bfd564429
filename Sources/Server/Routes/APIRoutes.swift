import Accounts
import Foundation
import FunctionKit
import GantryAPI
import Hummingbird
import Planner
import Store

/// What the API handlers need; the server builds it once.
struct APIContext: Sendable {
    let store: any ServerStore & ConsoleStore
    let accounts: Accounts
    let repositories: [ServerConfig.Repository]
    let wakeEngine: @Sendable (String) -> Void
    let wakePlanner: @Sendable () -> Void
    /// How functions are isolated here, for /healthz.
    var isolation: IsolationHealth? = nil
    /// The public half of `secretManagement`, handed to whoever seals a secret for this server.
    var publicKeyPEM: String? = nil
    /// The outbox's rows and re-queue (nil in tests that build routes without one).
    var outbox: OutboxAPI? = nil
    /// The planner's preview of a branch or pull request (nothing deployed).
    var planPreview: (@Sendable (PlanPreviewRequest) async throws -> PlanPreviewView)? = nil

    var actions: DeploymentActions { DeploymentActions(store: store, wakeEngine: wakeEngine) }
    var console: any ConsoleStore { store }
}

/// `/api/v1`: every route sits in the group of the role it needs (viewer reads, editor acts).
func addAPIRoutes(to router: GantryRouter, api: APIContext) {
    router.get("/healthz") { _, _ in
        json(Health(status: "ok", reason: "", details: Health.Details(functionIsolation: api.isolation)))
    }

    let v1 = router.group("/api/v1").add(middleware: BearerAuthenticator(accounts: api.accounts))
    addDeploymentReads(to: v1.requiring(.viewer, as: .api), api: api)
    addDeploymentActions(to: v1.requiring(.editor, as: .api), api: api)
    if let outbox = api.outbox {
        addOutboxRoutes(viewer: v1.requiring(.viewer, as: .api), admin: v1.requiring(.admin, as: .api), outbox: outbox)
    }
}

private func addDeploymentReads(to viewer: GantryRoutes, api: APIContext) {
    viewer.get("/deployments") { request, _ -> Response in
        let app = request.uri.queryParameters.get("application")
        let limit = request.uri.queryParameters.get("limit").flatMap(Int.init).map { min(max($0, 1), 1000) } ?? 100
        let list = try await api.store.deployments(application: app, limit: limit)
        return json(DeploymentList(deployments: list.map { DeploymentView($0) }))
    }
    viewer.get("/deployments/:id") { _, context -> Response in
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
    viewer.get("/deployments/:id/stages/:index/attempts") { _, context -> Response in
        let id = context.parameters.get("id") ?? ""
        guard let index = context.parameters.get("index").flatMap(Int.init) else { return problem(.badRequest, "bad stage index") }
        guard let detail = try await api.store.deployment(id: id), detail.stages.contains(where: { $0.index == index }) else {
            return problem(.notFound, "no stage \(index) in deployment \(id)")
        }
        let list = try await api.store.invocations(deploymentID: id, stageIndex: index)
        return json(InvocationList(attempts: list.map(InvocationView.init)))
    }
    viewer.get("/deployments/:id/logs") { request, context -> Response in
        let id = context.parameters.get("id") ?? ""
        guard let detail = try await api.store.deployment(id: id) else { return problem(.notFound, "no deployment \(id)") }
        let after = request.uri.queryParameters.get("after").flatMap(Int64.init) ?? 0
        let lines = try await api.store.logs(deploymentID: id, stageIndex: nil, afterID: after).map {
            LogLineView(id: $0.id, stage: $0.line.stageIndex, attempt: $0.line.attempt, at: RFC3339.format($0.line.at),
                        line: $0.line.line)
        }
        return json(LogList(lines: lines, status: detail.deployment.status.rawValue))
    }
    viewer.get("/applications") { _, _ -> Response in
        json(ApplicationList(applications: try await api.store.applications(repository: nil).map(ApplicationView.init)))
    }
    viewer.get("/encryption/public-key") { _, _ -> Response in
        guard let pem = api.publicKeyPEM else {
            return problem(.notFound, "this server has no secretManagement key pair: secrets cannot be sealed for it")
        }
        return json(PublicKeyView(publicKey: pem))
    }
}

private func addDeploymentActions(to editor: GantryRoutes, api: APIContext) {
    editor.post("/deployments/:id/approve") { request, context -> Response in
        let id = context.parameters.get("id") ?? ""
        let body = try? await request.decodeJSONBody(ApproveRequest.self)
        let outcome = try await api.actions.approve(id: id, stage: body?.stage, approver: try context.principal().name)
        guard outcome.status == .accepted else { return problem(outcome.status, outcome.reason) }
        return json(Message(status: "approved", reason: outcome.reason, id: id), status: .accepted)
    }
    editor.post("/deployments/:id/cancel") { request, context -> Response in
        let id = context.parameters.get("id") ?? ""
        let body = try? await request.decodeJSONBody(CancelRequest.self)
        let outcome = try await api.actions.cancel(id: id, rollback: body?.rollback ?? true)
        guard outcome.status == .accepted else { return problem(outcome.status, outcome.reason) }
        return json(Message(status: "cancelling", reason: "", id: id), status: .accepted)
    }
    editor.post("/deployments/:id/skip") { request, context -> Response in
        let id = context.parameters.get("id") ?? ""
        let body = try? await request.decodeJSONBody(SkipRequest.self)
        let outcome = try await api.actions.skip(id: id, stage: body?.stage, by: try context.principal().name, console: api.console)
        guard outcome.status == .accepted else { return problem(outcome.status, outcome.reason) }
        return json(Message(status: "skipped", reason: outcome.reason, id: id), status: .accepted)
    }
    editor.post("/applications/:name/sync") { request, context -> Response in
        let name = context.parameters.get("name") ?? ""
        guard let app = try await api.store.application(named: name) else { return problem(.notFound, "no application \(name)") }
        let body = try? await request.decodeJSONBody(SyncRequest.self)
        guard let strategy = SyncStrategy(rawValue: body?.strategy ?? "auto") else {
            return problem(.badRequest, "strategy must be auto, quick-sync or pipeline")
        }
        let id = try await queueSync(api: api, app: app, strategy: strategy, by: try context.principal().name)
        return json(Message(status: "accepted", reason: "sync of \(name) queued", id: String(id)), status: .accepted)
    }
    // Editor: a preview fetches refs and runs planning invocations, work a viewer should not be able to start at will.
    editor.post("/plan-preview") { request, _ -> Response in
        guard let body = try? await request.decodeJSONBody(PlanPreviewRequest.self) else {
            return problem(.badRequest, "expected {\"repository\": ..., \"head\": ..., \"base\": ...}")
        }
        guard let preview = api.planPreview else { return problem(.serviceUnavailable, "the planner does not run here") }
        do { return json(try await preview(body)) } catch let refused as PreviewRefused {
            return problem(.badRequest, refused.description)
        }
    }
}

/// Queues a manual sync of the application's branch head (API and web UI).
func queueSync(api: APIContext, app: AppRecord, strategy: SyncStrategy, by who: String) async throws -> Int64 {
    let branch = api.repositories.first { $0.id == app.repository }?.branch ?? "main"
    let id = try await api.store.addTrigger(NewTrigger(repository: app.repository, ref: "refs/heads/\(branch)",
                                                       commit: nil, kind: .manual, application: app.name,
                                                       strategy: strategy, commitMessage: "", author: who))
    api.wakePlanner()
    return id
}
