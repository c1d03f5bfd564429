import Foundation
import Store

/// One HTTP call an outbox row turns into (always a POST).
public struct OutboundRequest: Sendable {
    public var url: URL
    public var headers: [String: String]
    public var body: [UInt8]
}

/// Where a target's rows go and how they are worded. Rendering happens at each attempt from the stored event, so
/// only what must stay the same across retries (the id, the body) is stored.
public protocol OutboxReceiver: Sendable {
    func request(for message: OutboxMessage, event: DeploymentEvent, now: Date) throws -> OutboundRequest
    /// What must never appear in a stored error or an API answer (URLs with tokens in them, secrets).
    var secrets: [String] { get }
}

/// The deployment's page on this server: what a person clicks in Slack or on the commit.
struct DeploymentLink {
    let externalURL: String
    func url(_ deploymentID: String) -> String {
        (externalURL.hasSuffix("/") ? String(externalURL.dropLast()) : externalURL) + "/deployments/" + deploymentID
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
