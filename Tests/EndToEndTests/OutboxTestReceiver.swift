import Digest
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GantrySupport
import HTTPTypes
import Hummingbird
import Synchronization

/// A receiver on loopback for the outbox's calls: Standard Webhooks on `/hook` (signature checked here, with
/// the secret), GitHub's statuses API on `/repos/...` (bearer token checked). `answer` decides each reply.
final class OutboxTestReceiver: Sendable {
    struct Call: Sendable {
        var path: String
        var id: String
        var body: [UInt8]
        var signatureValid: Bool
        var authorization: String?
        var status: Int
        var at: Date
    }
    enum Answer: Sendable { case ok, unavailable, throttled(retryAfter: Int) }

    let port = freePort()
    var url: String { "http://127.0.0.1:\(port)" }
    let secret = "whsec_" + Data("outbox-test-signing-key-\(UUID().uuidString.prefix(6))".utf8).base64EncodedString()
    private let state = Mutex<(calls: [Call], answers: [Answer], fallback: Answer)>(([], [], .ok))
    private let runner = Mutex<Task<Void, Error>?>(nil)

    /// Answers are taken in order; when they run out, `fallback`.
    func answer(_ answers: [Answer], then fallback: Answer) { state.withLock { $0.answers = answers; $0.fallback = fallback } }
    var calls: [Call] { state.withLock { $0.calls } }
    /// Accepted webhook deliveries, each id once, in the order they first arrived.
    var delivered: [Call] {
        var seen = Set<String>()
        return calls.filter { $0.status == 200 && $0.path == "/hook" && seen.insert($0.id).inserted }
    }
    func events(_ calls: [Call]) -> [String] {
        calls.compactMap { (try? JSONDecoder().decode(Head.self, from: Data($0.body)))?.type }
    }
    struct Head: Decodable { var type: String }

    init() async throws {
        let router = Router()
        router.post("/hook") { request, _ in try await self.handle(request, path: "/hook") }
        router.post("/repos/:owner/:name/statuses/:sha") { request, _ in
            try await self.handle(request, path: request.uri.path)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        runner.withLock { $0 = Task { try await app.runService() } }
        _ = try await eventually("the test receiver to listen") {
            var r = URLRequest(url: URL(string: self.url + "/none")!)
            r.timeoutInterval = 1
            return (try? await URLSession.shared.data(for: r)) != nil ? true : nil
        }
    }

    func stop() { runner.withLock { $0?.cancel() } }

    private func handle(_ request: Request, path: String) async throws -> Response {
        let body = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView)
        let header = { (name: String) in HTTPField.Name(name).flatMap { request.headers[$0] } }
        let id = header("webhook-id") ?? "", timestamp = header("webhook-timestamp") ?? ""
        let key = Array(Data(base64Encoded: String(secret.dropFirst(6)))!)
        let expected = "v1," + Data(Digest.hmacSHA256(key: key, Array("\(id).\(timestamp).".utf8) + body)).base64EncodedString()
        let signed = (header("webhook-signature") ?? "").split(separator: " ").contains { $0 == expected }
        let answer = state.withLock { s -> Answer in s.answers.isEmpty ? s.fallback : s.answers.removeFirst() }
        let status: Int
        var headers = HTTPFields()
        switch answer {
        case .ok: status = 200
        case .unavailable: status = 503
        case .throttled(let seconds): status = 429; headers[.retryAfter] = String(seconds)
        }
        let call = Call(path: path, id: id, body: body, signatureValid: signed, authorization: header("Authorization"),
                        status: status, at: Date())
        state.withLock { $0.calls.append(call) }
        return Response(status: .init(code: status), headers: headers)
    }
}
