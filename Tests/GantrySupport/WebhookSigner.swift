import Digest
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Ingress

/// Builds and signs GitHub deliveries the way GitHub does, for tests that need exact control over delivery ids.
package struct WebhookSigner {
    package let secret: String
    package let url: String
    /// The repository URL the payload names (matched against the configured remote); nil names none.
    package var repository: String? = nil

    package init(secret: String, url: String, repository: String? = nil) {
        self.secret = secret; self.url = url; self.repository = repository
    }

    package struct Delivery {
        package let id: String; package let event: String; package let body: Data
        package init(id: String, event: String, body: Data) { self.id = id; self.event = event; self.body = body }
    }

    package func push(after: String, before: String, ref: String = "refs/heads/main") -> Delivery {
        let body = """
        {"ref":"\(ref)","before":"\(before)","after":"\(after)","deleted":false,"repository":{\(repository.map { "\"clone_url\":\"\($0)\"" } ?? "")},"head_commit":{"id":"\(after)","message":"test push","author":{"name":"Tester"}},"pusher":{"name":"tester"}}
        """
        return Delivery(id: UUID().uuidString, event: "push", body: Data(body.utf8))
    }

    /// A `pull_request` delivery in GitHub's shape: `action` opened or synchronize, the head commit, into `base`.
    package func pullRequest(number: Int, action: String, head: String, base: String = "main",
                             title: String = "A change") -> Delivery {
        let body = """
        {"action":"\(action)","number":\(number),"pull_request":{"number":\(number),"title":"\(title)","html_url":"https://github.example/example/deploy/pull/\(number)","user":{"login":"contributor"},"head":{"ref":"feature","sha":"\(head)"},"base":{"ref":"\(base)"}},"repository":{\(repository.map { "\"clone_url\":\"\($0)\"" } ?? "")}}
        """
        return Delivery(id: UUID().uuidString, event: "pull_request", body: Data(body.utf8))
    }

    package func ping() -> Delivery { Delivery(id: UUID().uuidString, event: "ping", body: Data(#"{"zen":"Keep it logically awesome."}"#.utf8)) }

    package func signature(_ body: Data) -> String {
        "sha256=" + Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), Array(body)))
    }

    package func send(_ d: Delivery, signature: String? = nil) async throws -> ServerProcess.Answer {
        var r = URLRequest(url: URL(string: url)!)
        r.httpMethod = "POST"
        r.httpBody = d.body
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.setValue(d.event, forHTTPHeaderField: "X-GitHub-Event")
        r.setValue(d.id, forHTTPHeaderField: "X-GitHub-Delivery")
        r.setValue(signature ?? self.signature(d.body), forHTTPHeaderField: "X-Hub-Signature-256")
        let (data, response) = try await URLSession.shared.data(for: r)
        return ServerProcess.Answer(status: (response as! HTTPURLResponse).statusCode, data: data)
    }
}
