import Hummingbird
import Ingress

/// `POST /hooks/{binding}`: no bearer token (the Git host signs instead); the body cap is enforced before
/// and while reading, so an oversized delivery never sits in memory.
func addHookRoutes(to router: Router<BasicRequestContext>, ingress: Ingress, bodyLimit: Int) {
    router.post("/hooks/:binding") { request, context -> Response in
        let binding = context.parameters.get("binding") ?? ""
        if let length = request.headers[.contentLength].flatMap(Int.init), length > bodyLimit {
            return problem(.contentTooLarge, "body of \(length) bytes exceeds the limit of \(bodyLimit)")
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: bodyLimit) } catch {
            return problem(.contentTooLarge, "body exceeds the limit of \(bodyLimit) bytes")
        }
        let reply = await ingress.handle(binding: binding, headers: request.headerDictionary,
                                         body: Array(body.readableBytesView))
        return json(Message(status: reply.verdict, reason: reply.reason, id: reply.deliveryID),
                    status: .init(code: reply.status))
    }
}
