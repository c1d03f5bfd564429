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
        return deliveryAnswer(reply)
    }
}

/// `{"id":…,"reason":…,"status":…}`: what `json(Message(…))` writes (same keys, order and escaping), built
/// by hand because a JSONEncoder per delivery was a visible share of ingest time.
func deliveryAnswer(_ reply: IngressReply) -> Response {
    var text = "{"
    if let id = reply.deliveryID { text += "\"id\":" + jsonString(id) + "," }
    text += "\"reason\":" + jsonString(reply.reason) + ",\"status\":" + jsonString(reply.verdict) + "}"
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
}

/// A JSON string literal: quote, backslash and control characters escaped, everything else as it is.
func jsonString(_ value: String) -> String {
    var out = "\""
    out.reserveCapacity(value.utf8.count + 2)
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

private func tooLarge(_ ingress: Ingress, _ binding: String, _ request: Request, _ reason: String) -> Response {
    ingress.refused(binding: binding, headers: request.headerDictionary, verdict: "too-large", reason: reason)
    return problem(.contentTooLarge, reason)
}
