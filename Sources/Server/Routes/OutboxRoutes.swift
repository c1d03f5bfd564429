import Foundation
import FunctionKit
import GantryAPI
import Hummingbird
import Outbox
import Store

/// What the outbox routes need: the store's outbox and the redaction of the configured secrets.
struct OutboxAPI: Sendable {
    let store: any OutboxStore
    let redaction: SecretRedaction
}

/// `GET /api/v1/outbox` (viewer) and `POST /api/v1/outbox/{id}/retry` (admin: it sends again what was given up).
func addOutboxRoutes(viewer: GantryRoutes, admin: GantryRoutes, outbox: OutboxAPI) {
    viewer.get("/outbox") { request, _ -> Response in
        let statusText = request.uri.queryParameters.get("status")
        let status = statusText.flatMap(OutboxStatus.init(rawValue:))
        if statusText != nil && status == nil { return problem(.badRequest, "status must be pending, sent or failed") }
        let limit = request.uri.queryParameters.get("limit").flatMap(Int.init).map { min(max($0, 1), 1000) } ?? 100
        let rows = try await outbox.store.outboxMessages(status: status, limit: limit)
        return json(OutboxList(messages: rows.map { OutboxMessageView($0, redaction: outbox.redaction) }))
    }
    admin.post("/outbox/:id/retry") { _, context -> Response in
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { return problem(.badRequest, "bad outbox id") }
        guard try await outbox.store.retryOutboxMessage(id: id, now: Date()) else {
            return problem(.notFound, "no dead-lettered outbox row \(id)")
        }
        return json(Message(status: "pending", reason: "outbox row \(id) queued again", id: String(id)), status: .accepted)
    }
}

extension OutboxMessageView {
    init(_ m: OutboxMessage, redaction: SecretRedaction) {
        struct Head: Decodable { var type: String }
        let event = try? JSONDecoder().decode(Head.self, from: Data(m.payload.utf8)).type
        self.init(id: m.id, idempotencyKey: m.idempotencyKey, target: m.target, deploymentID: m.deploymentID, seq: m.seq,
                  status: m.status.rawValue, attempts: m.attempts, nextAttemptAt: RFC3339.format(m.nextAttemptAt),
                  lastError: m.lastError.map(redaction.apply), createdAt: RFC3339.format(m.createdAt),
                  sentAt: m.sentAt.map(RFC3339.format), event: event)
    }
}
