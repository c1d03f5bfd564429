import Foundation
import Store

/// GitHub Deployments: one per Gantry deployment (environment: the app's `env` label, else its name), whose
/// status follows it: queued when planned, in_progress while it runs or rolls back, then success, failure or
/// error; a deployment superseded before it ran, and the previous success of the same app once a new one
/// succeeds, become inactive. Gantry marks the previous one itself (`auto_inactive: false`): GitHub's own rule
/// skips production environments.
struct GitHubDeploymentReceiver: OutboxReceiver {
    let api: GitHostAPI
    let link: DeploymentLink
    let secrets: [String]

    private struct Created: Decodable { var id: Int64 }
    private struct Listed: Decodable { var id: Int64; var payload: Payload? }
    private struct Payload: Codable { var gantryDeployment: String? }
    private struct NewDeployment: Encodable {
        var ref: String
        var environment: String
        var description: String
        var auto_merge = false
        var required_contexts: [String] = []
        var payload: Payload
    }
    private struct NewStatus: Encodable {
        var state: String
        var log_url: String
        var description: String
        var auto_inactive = false
    }

    static func environment(_ d: DeploymentEvent.Subject) -> String { d.labels["env"] ?? d.application }

    /// The deployment status an event sets; nil: the event does not move it.
    static func state(_ event: DeploymentEvent) -> String? {
        switch event.type {
        case .planned: return "queued"
        case .started, .rollingBack: return "in_progress"
        case .succeeded: return "success"
        case .failed: return "failure"
        case .cancelled: return event.deployment.statusReason.hasPrefix("superseded") ? "inactive" : "error"
        case .triggered, .waitApproval, .approved, .triggerFailed: return nil
        }
    }

    func deliver(_ message: OutboxMessage, through exchange: OutboundExchange) async throws {
        let event = try exchange.decode(DeploymentEvent.self, message)
        guard let state = Self.state(event) else { return }
        let d = event.deployment
        let id = try await deploymentID(of: d, exchange)
        let description = String("\(d.status.rawValue)\(d.statusReason.isEmpty ? "" : ": " + d.statusReason)".prefix(140))
        let log = link.url(d)
        try await setStatus(id, state, description: description, log: log, exchange)
        guard state == "success" else { return }
        let activeKey = "active:\(d.application)"
        let active = try await exchange.memo(activeKey).flatMap(ActiveDeployment.init)
        if let active, active.at > event.at.timeIntervalSince1970 {
            // A newer success of the app went out while this row waited for a retry: this one is already replaced.
            try await setStatus(id, "inactive", description: "superseded before this status was delivered", log: log, exchange)
            return
        }
        if let active, active.id != id {
            // 404: the old deployment was deleted on GitHub; nothing left to mark.
            try await setStatus(active.id, "inactive", description: "superseded by \(d.commit.prefix(7))", log: log,
                                exchange, accepting: [404])
        }
        try await exchange.remember(activeKey, ActiveDeployment(id: id, at: event.at.timeIntervalSince1970).memo)
    }

    /// The app's current success on GitHub and when Gantry's deployment succeeded: `<id> <epoch seconds>` (an id
    /// alone, as first written, counts as older than anything).
    private struct ActiveDeployment {
        var id: Int64
        var at: Double
        init(id: Int64, at: Double) { self.id = id; self.at = at }
        init?(_ memo: String) {
            let parts = memo.split(separator: " ")
            guard let id = parts.first.flatMap({ Int64($0) }) else { return nil }
            self.id = id
            at = parts.count > 1 ? Double(parts[1]) ?? 0 : 0
        }
        var memo: String { "\(id) \(at)" }
    }

    /// The GitHub deployment of a Gantry deployment: remembered, else found by its payload (a create whose id was
    /// lost), else created now.
    private func deploymentID(of d: DeploymentEvent.Subject, _ exchange: OutboundExchange) async throws -> Int64 {
        let key = "deployment:\(d.id)"
        if let known = try await exchange.memo(key).flatMap({ Int64($0) }) { return known }
        let environment = Self.environment(d)
        let query = "?sha=\(d.commit)&environment=\(environment.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? environment)"
        let listed = try await exchange.call(try await api.get("/repos/\(api.repository)/deployments\(query)&per_page=100",
                                                               now: exchange.now))
        let found = try exchange.decode([Listed].self, from: listed.body, what: "the commit's deployments")
            .first { $0.payload?.gantryDeployment == d.id }?.id
        let id: Int64
        if let found {
            id = found
        } else {
            let created = try await exchange.call(try await api.request("POST", "/repos/\(api.repository)/deployments", body: NewDeployment(
                ref: d.commit, environment: environment, description: "Gantry deployment \(d.id) of \(d.application)",
                payload: Payload(gantryDeployment: d.id)), now: exchange.now))
            id = try exchange.decode(Created.self, from: created.body, what: "the created deployment").id
        }
        try await exchange.remember(key, String(id))
        return id
    }

    private func setStatus(_ id: Int64, _ state: String, description: String, log: String, _ exchange: OutboundExchange,
                           accepting: Set<Int> = []) async throws {
        try await exchange.call(try await api.request("POST", "/repos/\(api.repository)/deployments/\(id)/statuses",
                                                      body: NewStatus(state: state, log_url: log, description: description),
                                                      now: exchange.now), accepting: accepting)
    }
}
