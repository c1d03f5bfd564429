import Engine
import Foundation
import FunctionKit
import GantryAPI
import Hummingbird
import Store

/// `POST /api/v1/callbacks/{token}`: an outside system resolves a stage that suspended waiting for it.
/// The token is the credential (256 random bits, stored hashed, single use), so no bearer token is needed;
/// an unknown or used token gets 404 and reveals nothing.
func addCallbackRoutes(to router: GantryRouter, store: any ServerStore, wakeEngine: @escaping @Sendable (String) -> Void) {
    router.post("/api/v1/callbacks/:token") { request, context -> Response in
        let token = context.parameters.get("token") ?? ""
        let body: CallbackRequest
        do {
            guard let decoded = try await request.decodeJSONBody(CallbackRequest.self) else {
                return problem(.badRequest, "expected {\"status\": \"succeeded|failed|heartbeat\", \"payload\": ...}")
            }
            body = decoded
        } catch {
            return problem(.badRequest, "expected {\"status\": \"succeeded|failed|heartbeat\", \"payload\": ...}")
        }
        guard ["succeeded", "failed", "heartbeat"].contains(body.status) else {
            return problem(.badRequest, "status must be succeeded, failed or heartbeat")
        }
        switch try await store.resolveCallback(tokenHash: CallbackToken.hash(token), status: body.status,
                                               payloadJSON: body.payload?.encoded(), now: Date()) {
        case .unknown:
            return problem(.notFound, "no stage waits for this callback token")
        case .heartbeat(let id):
            return json(Message(status: "heartbeat", reason: "", id: id), status: .accepted)
        case .resolved(let id):
            wakeEngine(id)
            return json(Message(status: "accepted", reason: "the stage resumes", id: id), status: .accepted)
        }
    }
}
