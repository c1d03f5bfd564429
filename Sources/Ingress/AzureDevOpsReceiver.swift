import Foundation
import Store

/// Azure DevOps service hooks: no signature, but basic auth the hook is configured with; the binding's
/// secret is `user:password`. The delivery id (`id`) and event (`eventType: git.push`) are in the payload,
/// and one push lists every updated ref in `resource.refUpdates`.
struct AzureDevOpsReceiver: WebhookReceiver {
    func authenticate(_ request: WebhookRequest, binding: WebhookBinding) -> Authentication {
        guard let header = request.headers.header("authorization") else {
            return .rejected("Authorization header missing (the hook must be set up with basic authentication)")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { return .rejected("Authorization is not of the form Basic <base64 user:password>") }
        var matched = false
        for secret in binding.secrets where credentialEquals(Array(decoded), secret) { matched = true }
        return matched ? .verified : .rejected("basic-auth user and password do not match any configured secret")
    }

    func claimedDeliveryID(_ request: WebhookRequest) -> String? { nil }

    func read(_ request: WebhookRequest) -> ReceivedDelivery {
        let payload: LooseJSON
        switch PayloadBody.object(request.body) {
        case .unreadable(let reason): return ReceivedDelivery(deliveryID: nil, event: "", interpretation: .ignored(reason))
        case .object(let object): payload = object
        }
        let event = payload["eventType"]?.text ?? ""
        return ReceivedDelivery(deliveryID: payload["id"]?.text, event: event,
                                interpretation: interpret(event: event, payload))
    }

    private func interpret(event: String, _ payload: LooseJSON) -> Interpretation {
        guard !event.isEmpty else { return .ignored(missingField("eventType", "a string")) }
        guard event == "git.push" else { return .ignored("unsupported event \(event)") }
        guard let resource = payload["resource"], resource.isObject else {
            return .ignored(missingField("resource", "an object"))
        }
        guard let updates = resource["refUpdates"]?.array else {
            return .ignored(missingField("resource.refUpdates", "an array"))
        }
        var urls: [String] = []
        for key in ["remoteUrl", "sshUrl", "webUrl"] {
            if let url = resource[path: "repository", key]?.text, !urls.contains(url) { urls.append(url) }
        }
        let author = resource[path: "pushedBy", "displayName"]?.text ?? ""
        let commits = resource["commits"]?.array ?? []

        var pushes: [NormalizedPush] = []
        for (index, update) in updates.enumerated() {
            guard let ref = update["name"]?.text else {
                return .ignored(missingField("resource.refUpdates[\(index)].name", "a string"))
            }
            guard let after = update["newObjectId"]?.string else {
                return .ignored(missingField("resource.refUpdates[\(index)].newObjectId", "a string"))
            }
            let commit = commits.first { $0["commitId"]?.string == after }
            let event = PushEvent(provider: WebhookProvider.azureDevOps.rawValue, repositoryURLs: urls, ref: ref,
                                  before: update["oldObjectId"]?.string ?? "", after: after,
                                  commitMessage: commit?["comment"]?.string ?? "",
                                  author: commit?[path: "author", "name"]?.text ?? author)
            pushes.append(NormalizedPush(event: event, deleted: isZeroCommit(after)))
        }
        return .pushes(pushes, repositoryURLs: urls)
    }
}
