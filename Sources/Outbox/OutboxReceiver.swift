import Foundation
import Store

/// One HTTP call a receiver makes.
public struct OutboundRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: [UInt8]
    /// The Git host credential the call carries, told when the host refuses it.
    var credential: (token: any HostToken, value: String)? = nil
    public init(method: String = "POST", url: URL, headers: [String: String], body: [UInt8]) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
    }
}

/// Where a target's rows go and how they are worded. Rendering happens at each attempt from the stored row, so
/// only what must stay the same across retries (the id, the payload) is stored. A delivery may take several
/// calls (find the comment, then edit it); it must be safe to repeat, since a row whose outcome was not recorded
/// is delivered again.
public protocol OutboxReceiver: Sendable {
    func deliver(_ message: OutboxMessage, through exchange: OutboundExchange) async throws
    /// What must never appear in a stored error or an API answer (URLs with tokens in them, secrets).
    var secrets: [String] { get }
}

/// A receiver that turns each deployment event into exactly one call.
protocol EventReceiver: OutboxReceiver {
    func request(for message: OutboxMessage, event: DeploymentEvent, now: Date) async throws -> OutboundRequest
}

extension EventReceiver {
    public func deliver(_ message: OutboxMessage, through exchange: OutboundExchange) async throws {
        let event = try exchange.decode(DeploymentEvent.self, message)
        _ = try await exchange.call(try await request(for: message, event: event, now: exchange.now))
    }
}

/// The deployment's page on this server: what a person clicks in Slack or on the commit. An event with no
/// deployment (a trigger that failed) links to its application's page.
struct DeploymentLink {
    let externalURL: String
    func url(_ d: DeploymentEvent.Subject) -> String {
        let base = externalURL.hasSuffix("/") ? String(externalURL.dropLast()) : externalURL
        let name = d.application.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? d.application
        return d.id.isEmpty ? base + "/applications/" + name : base + "/deployments/" + d.id
    }
}

struct ReceiverURLInvalid: Error, CustomStringConvertible {
    let receiver: String
    var description: String { "receiver \(receiver): its URL is not an http(s) URL" }
}

func httpURL(_ text: String, receiver: String) throws -> URL {
    guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
        throw ReceiverURLInvalid(receiver: receiver)
    }
    return url
}
