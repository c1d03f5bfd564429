import Foundation
import Store

/// What one Git host's webhooks look like: how it proves a request is genuine, where it puts the delivery id
/// and the event name, and how its push payload reads. One small type per host; the rules after that are shared.
protocol WebhookReceiver: Sendable {
    /// Checks the request's credential (a signature over the exact received bytes, a token, basic auth), trying
    /// every secret of the binding. A rejection reason names what was wrong with the request and never shows a
    /// secret or an expected signature.
    func authenticate(_ request: WebhookRequest, binding: WebhookBinding) -> Authentication
    /// The host's delivery id as far as the headers tell (also answered on a 401), if it sent one.
    func claimedDeliveryID(_ request: WebhookRequest) -> String?
    /// Reads a verified delivery: its id (stays the same on redelivery), its event and what it asks for.
    func read(_ request: WebhookRequest) -> ReceivedDelivery
    /// Whether a delivery without a host id is named after its body, so identical resends dedupe. Senders that
    /// post the same body for every event (generic hooks) must not be deduped that way.
    var namesDeliveriesByBody: Bool { get }
}

extension WebhookReceiver {
    var namesDeliveriesByBody: Bool { true }
}

/// One request as the receivers see it: lower-cased header names, the exact body bytes, the time it arrived.
struct WebhookRequest: Sendable {
    var headers: [String: String]
    var body: [UInt8]
    var now: Date
}

enum Authentication: Equatable {
    case verified
    case rejected(String)
}

struct ReceivedDelivery: Equatable {
    var deliveryID: String?
    var event: String
    var interpretation: Interpretation
}

enum Interpretation: Equatable {
    /// One or more ref updates (Bitbucket and Azure DevOps send several in one delivery).
    case pushes([NormalizedPush], repositoryURLs: [String])
    /// "Something changed": generic senders may name a ref and a commit, or nothing (then the branch head
    /// is resolved with git).
    case poke(ref: String?, commit: String?, repositoryURLs: [String])
    /// A pull or merge request opened or updated: previewed, never deployed.
    case pullRequest(PullRequestEvent, repositoryURLs: [String])
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
        guard var value = self[name]?[...] else { return nil }
        // By hand: Foundation's trimming showed up in ingest profiles, and HTTP only pads with space and tab.
        while let c = value.first, c == " " || c == "\t" { value.removeFirst() }
        while let c = value.last, c == " " || c == "\t" { value.removeLast() }
        return value.isEmpty ? nil : String(value)
    }

    /// The first of several header names that is present (hosts renamed theirs over the years).
    func header(anyOf names: [String]) -> String? {
        for name in names { if let value = header(name) { return value } }
        return nil
    }
}

/// Reasons for fields a payload lacks, worded the same for every host.
func missingField(_ field: String, _ type: String) -> String {
    "payload field \"\(field)\" is missing or not \(type)"
}

/// A ref update's "no commit" side: hosts write 40 (or 64) zeros for a created or deleted ref.
func isZeroCommit(_ commit: String) -> Bool { !commit.isEmpty && commit.utf8.allSatisfy { $0 == UInt8(ascii: "0") } }
