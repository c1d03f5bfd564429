import Accounts
import FunctionKit
import GantryAPI
import Hummingbird
import Ingress
import Store

/// "My push did nothing" in one look: `GET /metrics` (Prometheus text) and
/// `GET /api/v1/bindings/{id}/deliveries` (recent deliveries with verdict and reason, bearer token required).
struct ObservabilityContext: Sendable {
    let store: any DeliveryStore
    let accounts: Accounts
    let ingress: Ingress
    let metrics: ServerMetrics
    let gate: InFlightGate
}

func addObservabilityRoutes(to router: GantryRouter, context observability: ObservabilityContext) {
    router.get("/metrics") { _, _ -> Response in
        observability.metrics.queueDepth.set(Int64(try await observability.store.pendingTriggerCount()))
        observability.metrics.hooksInFlight.set(Int64(observability.gate.inFlight))
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: observability.metrics.registry.emitToBuffer())))
    }

    let viewer = router.group("/api/v1").add(middleware: BearerAuthenticator(accounts: observability.accounts))
        .requiring(.viewer, as: .api)
    viewer.get("/bindings/:id/deliveries") { request, context -> Response in
        let id = context.parameters.get("id") ?? ""
        guard observability.ingress.bindingIDs.contains(id) else { return problem(.notFound, "no webhook binding \(id)") }
        let limit = request.uri.queryParameters.get("limit").flatMap(Int.init).map { min(max($0, 1), 1000) } ?? 100
        let newestFirst = try await deliveryHistory(binding: id, limit: limit, store: observability.store,
                                                    ingress: observability.ingress)
        return json(DeliveryList(binding: id, deliveries: newestFirst.map { record, recorded in
            DeliveryView(id: record.deliveryID, event: record.event, verdict: record.verdict.rawValue, reason: record.reason,
                         receivedAt: RFC3339.format(record.receivedAt), triggerId: record.triggerID, recorded: recorded)
        }))
    }
}
