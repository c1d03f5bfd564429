import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What one call got back: a status, `Retry-After` and the body (what a Git host answered with an id), or a
/// transport failure worded without the URL (it may carry a token).
enum OutboundAnswer: Sendable {
    case answered(status: Int, retryAfter: String?, body: [UInt8])
    case unreachable(String)
}

/// Calls over URLSession (libcurl on Linux), each with its own time limit.
final class OutboundHTTP: Sendable {
    private let session: URLSession
    private let timeout: Double
    /// An answer's body is read for an id or a list of comments; more than this is not an answer Gantry asked for.
    static let maxBody = 1 << 20

    init(timeout: Double) {
        // Ephemeral: nothing of one receiver's answers (cookies, cache) is kept for the next call.
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        session = URLSession(configuration: config)
        self.timeout = timeout
    }

    /// One call whose answer must be 2xx (or in `accepting`); anything else is thrown as the sender's kind of
    /// failure. `what` names the call in that failure when its path alone does not say it.
    func call(_ request: OutboundRequest, accepting: Set<Int> = [], what: String? = nil) async throws -> (status: Int, body: [UInt8]) {
        switch await send(request) {
        case .answered(let status, _, let body) where (200..<300).contains(status) || accepting.contains(status):
            return (status, body)
        case .answered(let status, let retryAfter, _):
            throw DeliveryFailure.refused(status: status, retryAfter: retryAfter,
                                          call: (what.map { $0 + ", " } ?? "") + "\(request.method) \(request.url.path)")
        case .unreachable(let reason):
            throw DeliveryFailure.unreachable((what.map { $0 + ": " } ?? "") + reason)
        }
    }

    func send(_ r: OutboundRequest) async -> OutboundAnswer {
        var request = URLRequest(url: r.url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = r.method
        for (name, value) in r.headers { request.setValue(value, forHTTPHeaderField: name) }
        if r.method != "GET" { request.httpBody = Data(r.body) }
        return await withCheckedContinuation { done in
            session.dataTask(with: request) { data, response, error in
                if let http = response as? HTTPURLResponse {
                    let body = data.map { Array($0.prefix(Self.maxBody)) } ?? []
                    done.resume(returning: .answered(status: http.statusCode,
                                                     retryAfter: http.value(forHTTPHeaderField: "Retry-After"), body: body))
                } else {
                    let reason = (error as? URLError).map { "transport error \($0.code.rawValue)" } ?? "no response"
                    done.resume(returning: .unreachable(reason))
                }
            }.resume()
        }
    }
}
