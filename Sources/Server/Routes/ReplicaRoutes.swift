import Accounts
import Foundation
import FunctionKit
import GantryAPI
import Hummingbird
import Store

/// `GET /api/v1/replicas`: every replica that ever beat on this store, its last heartbeat and the stages it runs.
func addReplicaRoutes(to router: GantryRouter, store: any ReplicaStore, accounts: Accounts, liveWithin: Double) {
    let viewer = router.group("/api/v1").add(middleware: BearerAuthenticator(accounts: accounts)).requiring(.viewer, as: .api)
    viewer.get("/replicas") { _, _ -> Response in
        let now = Date()
        let list = try await store.replicas().map {
            ReplicaView(id: $0.id, startedAt: RFC3339.format($0.startedAt), lastHeartbeat: RFC3339.format($0.lastHeartbeat),
                        live: now.timeIntervalSince($0.lastHeartbeat) <= liveWithin, stagesHeld: $0.stagesHeld)
        }
        return json(ReplicaList(replicas: list))
    }
}
