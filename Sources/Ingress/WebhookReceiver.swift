import Foundation
import Store

/// What one Git host's webhooks look like: how it signs a request, where it puts the delivery id and the
/// event name, and how its push payload reads. One small type per host; the rules after that are shared.
protocol WebhookReceiver: Sendable {
    /// Checks the signature over the exact received bytes, trying every secret. Runs before the body is read.
    /// A rejection reason names what was wrong with the request and never shows a secret or expected signature.
    func authenticate(headers: [String: String], body: [UInt8], secrets: [[UInt8]]) -> Authentication
    /// The host's own id for this delivery (stays the same on redelivery), if it sent one.
    func deliveryID(headers: [String: String]) -> String?
    /// The host's event name as sent (e.g. "push"), or "" when missing.
    func eventName(headers: [String: String]) -> String
    /// Reads a verified delivery: a push to normalize, or the reason it is ignored.
    func interpret(event: String, headers: [String: String], body: [UInt8]) -> Interpretation
}

enum Authentication: Equatable {
    case verified
    case rejected(String)
}

enum Interpretation: Equatable {
    case push(NormalizedPush)
    case ignored(String)
}

/// A push in the shape every host is reduced to, plus the host's own "this deleted the ref" flag.
struct NormalizedPush: Equatable {
    var event: PushEvent
    var deleted: Bool
}

extension Dictionary where Key == String, Value == String {
    /// A header value (names are lower-cased by the server), trimmed; nil when absent or blank.
    func header(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }
}
