import Hummingbird
import Ingress
import Logging

/// `POST /hooks/{binding}`: no bearer token (the Git host signs instead). In front of ingress, all answered before
/// the body is read: an unknown binding (404), the in-flight limit (503 + Retry-After), the body cap (413, also
/// enforced while reading), and the server-wide budget of bytes held by requests whose signature is not checked
/// yet (503 + Retry-After), so neither one large delivery nor many at once sit in memory unverified. Logs carry
/// verdicts and reasons, never headers, secrets or signatures.
func addHookRoutes(to router: GantryRouter, ingress: Ingress, limits: IngressLimits, gate: InFlightGate,
                   logger: Logger) {
    let bodyLimit = limits.maxBodyBytes
    let known = Set(ingress.bindingIDs)
    let unverified = ByteBudget(capacity: limits.maxUnverifiedBytes)
    router.post("/hooks/:binding") { request, context -> Response in
        let binding = context.parameters.get("binding") ?? ""
        guard known.contains(binding) else {
            let reply = IngressReply(status: 404, verdict: .notFound, reason: "no webhook binding \(String(reflecting: binding))")
            ingress.refused(binding: binding, headers: [:], verdict: reply.verdict, reason: reply.reason)
            logger.debug("webhook delivery", metadata: ["binding": "(unknown)", "status": "404", "verdict": "not-found"])
            return deliveryAnswer(reply)
        }
        guard gate.enter() else {
            return overloaded(ingress, binding, request, "too many webhook requests in flight (limit \(gate.limit)): retry shortly")
        }
        defer { gate.leave() }
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let length = declared, length > bodyLimit {
            return tooLarge(ingress, binding, request, "body of \(length) bytes exceeds the limit of \(bodyLimit)")
        }
        let busy = "webhook bodies awaiting their signature check exceed \(unverified.capacity) bytes: retry shortly"
        var held = 0
        defer { unverified.release(held) }
        var body = ByteBuffer()
        if let length = declared {
            // The whole declared body is reserved before any of it is read.
            guard unverified.reserve(length) else { return overloaded(ingress, binding, request, busy) }
            held = length
            do { body = try await request.body.collect(upTo: bodyLimit) } catch {
                return tooLarge(ingress, binding, request, "body exceeds the limit of \(bodyLimit) bytes")
            }
        } else {
            // Chunked: reserved chunk by chunk as it arrives.
            for try await chunk in request.body {
                guard body.readableBytes + chunk.readableBytes <= bodyLimit else {
                    return tooLarge(ingress, binding, request, "body exceeds the limit of \(bodyLimit) bytes")
                }
                guard unverified.reserve(chunk.readableBytes) else { return overloaded(ingress, binding, request, busy) }
                held += chunk.readableBytes
                body.writeImmutableBuffer(chunk)
            }
        }
        let reply = await ingress.handle(binding: binding, headers: request.headerDictionary,
                                         body: Array(body.readableBytesView))
        // The delivery id is the sender's text: quoted.
        logger.log(level: reply.status == 202 ? .info : .debug, "webhook delivery", metadata: [
            "binding": "\(binding)",
            "delivery": "\(String(reflecting: reply.deliveryID ?? "-"))", "status": "\(reply.status)",
            "verdict": "\(reply.verdict.rawValue)", "reason": "\(reply.reason)",
        ])
        return deliveryAnswer(reply)
    }
}

/// `{"id":…,"reason":…,"status":…}`: what `json(Message(…))` writes (same keys, order and escaping), built
/// by hand because a JSONEncoder per delivery was a visible share of ingest time.
func deliveryAnswer(_ reply: IngressReply) -> Response {
    var text = "{"
    if let id = reply.deliveryID { text += "\"id\":" + jsonString(id) + "," }
    text += "\"reason\":" + jsonString(reply.reason) + ",\"status\":" + jsonString(reply.verdict.rawValue) + "}"
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

private func overloaded(_ ingress: Ingress, _ binding: String, _ request: Request, _ reason: String) -> Response {
    ingress.refused(binding: binding, headers: request.headerDictionary, verdict: .overloaded, reason: reason)
    var response = problem(.serviceUnavailable, reason)
    response.headers[.retryAfter] = "1"
    return response
}

private func tooLarge(_ ingress: Ingress, _ binding: String, _ request: Request, _ reason: String) -> Response {
    ingress.refused(binding: binding, headers: request.headerDictionary, verdict: .tooLarge, reason: reason)
    return problem(.contentTooLarge, reason)
}
