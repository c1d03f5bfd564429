import Foundation
import Store

/// Just enough of a store for the planner: triggers, applications and the outcomes it commits.
actor InMemoryStore: PlannerStore {
    private(set) var triggers: [Trigger] = []
    private(set) var done: Set<Int64> = []
    private(set) var apps: [String: Application] = [:]
    private(set) var outcomes: [PlanOutcome] = []
    private var nextID: Int64 = 1

    var deployments: [DeploymentDetail] { outcomes.flatMap(\.deployments) }
    var pendingIDs: [Int64] { triggers.map(\.id).filter { !done.contains($0) } }

    func outcome(trigger id: Int64) -> PlanOutcome? { outcomes.first { $0.triggerID == id } }

    /// What the engine does after a successful deployment.
    func setRunningCommit(_ application: String, _ commit: String) {
        apps[application]?.runningCommit = commit
    }

    // MARK: used by the planner

    func addTrigger(_ trigger: NewTrigger) async throws -> Int64 {
        let id = nextID
        nextID += 1
        triggers.append(Trigger(id: id, trigger: trigger, createdAt: Date()))
        return id
    }

    func pendingTriggers(limit: Int, excluding repositories: Set<String>) async throws -> [Trigger] {
        Array(triggers.filter { !done.contains($0.id) && !repositories.contains($0.trigger.repository) }.prefix(limit))
    }

    func applications(repository: String?) async throws -> [Application] {
        apps.values.filter { repository == nil || $0.repository == repository }.sorted { $0.name < $1.name }
    }

    func application(named name: String) async throws -> Application? { apps[name] }

    func commitPlan(_ outcome: PlanOutcome) async throws {
        struct PlannedTwice: Error { let trigger: Int64 }
        if done.contains(outcome.triggerID) { throw PlannedTwice(trigger: outcome.triggerID) }
        for app in outcome.applications { apps[app.name] = app }
        outcomes.append(outcome)
        done.insert(outcome.triggerID)
        for id in outcome.coalesced where !done.contains(id) {
            outcomes.append(PlanOutcome(triggerID: id, applications: [], deployments: [], note: outcome.coalescedNote))
            done.insert(id)
        }
    }
}
