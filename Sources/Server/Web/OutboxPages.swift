import Foundation
import FunctionKit
import Hummingbird
import Outbox
import Store

/// The outbox in the web UI: what is still to be sent and what was given up on, with the reason (secrets masked),
/// and, for an admin, the button that sends a given-up row again.
func addOutboxPages(viewerPages: GantryRoutes, adminForms: GantryRoutes, web: WebContext) {
    viewerPages.get("/outbox") { request, context -> Response in
        let user = try context.principal()
        guard let outbox = web.api.outbox else { return notFound(web, user, "This server sends nothing: it has no outbox") }
        var rows: [OutboxPage.Row] = []
        for status in [OutboxStatus.failed, .pending] {
            rows += try await outbox.store.outboxMessages(status: status, limit: 200).map {
                OutboxPage.Row($0, redaction: outbox.redaction, canRetry: user.role >= .admin)
            }
        }
        return web.page("outbox", title: "Outbox", user: user, OutboxPage(rows: rows),
                        notice: request.uri.queryParameters.get("notice"))
    }
    adminForms.post("/outbox/:id/retry") { _, context -> Response in
        guard let outbox = web.api.outbox, let id = context.parameters.get("id").flatMap(Int64.init) else {
            return redirect("/outbox?notice=" + formEscape("no such outbox row"))
        }
        let queued = try await outbox.store.retryOutboxMessage(id: id, now: Date())
        return redirect("/outbox?notice=" + formEscape(queued ? "outbox row \(id) queued again" : "outbox row \(id) is not given up"))
    }
}

struct OutboxPage: PageModel {
    struct Row: Sendable {
        var id: Int64
        var status, target, event, deployment, deploymentShort, attempts, next, lastError: String
        var canRetry: Bool

        init(_ m: OutboxMessage, redaction: SecretRedaction, canRetry: Bool) {
            struct Head: Decodable { var type: String }
            id = m.id; status = m.status.rawValue; target = m.target
            event = (try? JSONDecoder().decode(Head.self, from: Data(m.payload.utf8)))?.type ?? ""
            deployment = m.deploymentID; deploymentShort = String(m.deploymentID.prefix(8))
            attempts = String(m.attempts); next = m.status == .pending ? Show.time(m.nextAttemptAt) : ""
            lastError = m.lastError.map(redaction.apply) ?? ""
            self.canRetry = canRetry && m.status == .failed
        }
    }
    var rows: [Row]
    var csrf = ""
}
