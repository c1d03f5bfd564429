import Foundation
import FunctionKit
import Hummingbird
import Store

struct ReplicaView: Encodable {
    let id: String
    let startedAt: String
    let lastHeartbeat: String
    let live: Bool
    let stagesHeld: [String]
}

struct ReplicaList: Encodable { let replicas: [ReplicaView] }

/// `GET /api/v1/replicas`: every replica that ever beat on this store, its last heartbeat and the stages it runs.
func addReplicaRoutes(to router: Router<BasicRequestContext>, store: any ReplicaStore, auth: Accounts, liveWithin: Double) {
    router.get("/api/v1/replicas") { request, _ -> Response in
        _ = try await auth.requireBearer(.viewer, request)
        let now = Date()
        let list = try await store.replicas().map {
            ReplicaView(id: $0.id, startedAt: RFC3339.format($0.startedAt), lastHeartbeat: RFC3339.format($0.lastHeartbeat),
                        live: now.timeIntervalSince($0.lastHeartbeat) <= liveWithin, stagesHeld: $0.stagesHeld)
        }
        return json(ReplicaList(replicas: list))
    }
}
