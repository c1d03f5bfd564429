import Digest
import Foundation
@testable import Ingress
import XCTest

/// Signs deliveries the way each Git host does, for the fixture tests: the headers a host would send for a
/// body, with `secret` as the binding's configured secret.
enum HostSigning {
    static let secret = "fixture secret, not a real one"
    /// Azure DevOps' "secret" is the basic-auth pair its service hook is configured with.
    static let basicAuth = "gantry:basic-auth password"
    static let signingSecret = "whsec_" + Data("a signing key of 24 bytes".utf8).base64EncodedString()

    /// The bytes of a fixture file in Fixtures/<host>/ (read from the source tree, so no resources are needed).
    static func fixture(_ host: String, _ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/\(host)/\(name).json")
        return Array(try Data(contentsOf: url))
    }

    static func hex(_ body: [UInt8], secret: String = secret) -> String {
        Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), body))
    }

    static func secrets(for provider: WebhookProvider) -> [String] {
        switch provider {
        case .azureDevOps: return [basicAuth]
        case .gitlab, .generic: return [secret, signingSecret]
        default: return [secret]
        }
    }

    static func binding(_ provider: WebhookProvider, branch: String, remote: String?, id: String = "hook") -> WebhookBinding {
        WebhookBinding(id: id, provider: provider, repository: "demo", branch: branch,
                       secrets: secrets(for: provider).map { Array($0.utf8) }, remote: remote)
    }

    /// The headers `provider` sends with `body` (delivery ids fresh unless given).
    static func headers(_ provider: WebhookProvider, body: [UInt8], delivery: String = UUID().uuidString) -> [String: String] {
        var h = ["content-type": "application/json"]
        switch provider {
        case .github:
            h["x-github-event"] = "push"; h["x-github-delivery"] = delivery
            h["x-hub-signature-256"] = "sha256=" + hex(body)
        case .gitlab:
            h["x-gitlab-event"] = "Push Hook"; h["idempotency-key"] = delivery
            h["x-gitlab-event-uuid"] = "event-" + delivery
            h["x-gitlab-token"] = secret
        case .gitea:
            h["x-gitea-event"] = "push"; h["x-gitea-delivery"] = delivery
            h["x-gitea-signature"] = hex(body)
        case .bitbucket:
            h["x-event-key"] = "repo:push"; h["x-request-uuid"] = delivery; h["x-hook-uuid"] = "the-hook"
            h["x-hub-signature"] = "sha256=" + hex(body)
        case .bitbucketServer:
            h["x-event-key"] = "repo:refs_changed"; h["x-request-id"] = delivery
            h["x-hub-signature"] = "sha256=" + hex(body)
        case .azureDevOps:
            h["authorization"] = "Basic " + Data(basicAuth.utf8).base64EncodedString()
        case .generic:
            h["x-signature"] = "sha256=" + hex(body)
        }
        return h
    }

    /// Standard Webhooks headers (GitLab signing tokens, generic senders).
    static func standardWebhooks(body: [UInt8], id: String = "msg_\(UUID().uuidString)", at date: Date = Date(),
                                 secret: String = signingSecret) -> [String: String] {
        let timestamp = Int(date.timeIntervalSince1970)
        return ["webhook-id": id, "webhook-timestamp": String(timestamp),
                "webhook-signature": StandardWebhooks.signature(secret: secret, id: id, timestamp: timestamp, body: body)!]
    }
}

/// `bytes` with one byte changed (a space becomes a tab, or the first byte is flipped).
func oneByteChanged(_ bytes: [UInt8]) -> [UInt8] {
    var copy = bytes
    if let space = copy.firstIndex(of: UInt8(ascii: " ")) { copy[space] = UInt8(ascii: "\t") } else { copy[0] ^= 0x01 }
    return copy
}

/// A string with its last character changed.
func oneCharacterChanged(_ text: String) -> String {
    var scalars = Array(text.unicodeScalars)
    scalars[scalars.count - 1] = scalars.last == "x" ? "y" : "x"
    return String(String.UnicodeScalarView(scalars))
}
