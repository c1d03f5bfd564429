import Hummingbird
import Ingress
import Logging

/// `POST /hooks/{binding}`: no bearer token (the Git host signs instead). In front of ingress: the in-flight
/// limit (503 + Retry-After), and the body cap enforced before and while reading, so an oversized delivery
/// never sits in memory. Logs carry verdicts and reasons, never headers, secrets or signatures.
func addHookRoutes(to router: Router<BasicRequestContext>, ingress: Ingress, limits: IngressLimits, gate: InFlightGate,
                   logger: Logger) {
    let bodyLimit = limits.maxBodyBytes
    router.post("/hooks/:binding") { request, context -> Response in
        let binding = context.parameters.get("binding") ?? ""
        guard gate.enter() else {
            let reason = "too many webhook requests in flight (limit \(gate.limit)): retry shortly"
            ingress.refused(binding: binding, headers: request.headerDictionary, verdict: "overloaded", reason: reason)
            var response = problem(.serviceUnavailable, reason)
            response.headers[.retryAfter] = "1"
            return response
        }
        defer { gate.leave() }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > bodyLimit {
            return tooLarge(ingress, binding, request, "body of \(length) bytes exceeds the limit of \(bodyLimit)")
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: bodyLimit) } catch {
            return tooLarge(ingress, binding, request, "body exceeds the limit of \(bodyLimit) bytes")
        }
        let reply = await ingress.handle(binding: binding, headers: request.headerDictionary,
                                         body: Array(body.readableBytesView))
        // The binding and delivery id are the sender's text: unknown bindings are not echoed, ids are quoted.
        logger.log(level: reply.status == 202 ? .info : .debug, "webhook delivery", metadata: [
            "binding": "\(reply.status == 404 ? "(unknown)" : binding)",
            "delivery": "\(String(reflecting: reply.deliveryID ?? "-"))", "status": "\(reply.status)",
            "verdict": "\(reply.verdict)", "reason": "\(reply.reason)",
        ])
        return json(Message(status: reply.verdict, reason: reply.reason, id: reply.deliveryID),
                    status: .init(code: reply.status))
    }
}

private func tooLarge(_ ingress: Ingress, _ binding: String, _ request: Request, _ reason: String) -> Response {
    ingress.refused(binding: binding, headers: request.headerDictionary, verdict: "too-large", reason: reason)
    return problem(.contentTooLarge, reason)
}
