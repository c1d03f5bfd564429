import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What one attempt got back: a status and `Retry-After`, or a transport failure worded without the URL (it may
/// carry a token).
enum OutboundAnswer: Sendable {
    case answered(status: Int, retryAfter: String?)
    case unreachable(String)
}

/// POSTs over URLSession (libcurl on Linux), one call at a time per row, each with its own time limit.
final class OutboundHTTP: Sendable {
    private let session: URLSession
    private let timeout: Double

    init(timeout: Double) {
        // Ephemeral: nothing of one receiver's answers (cookies, cache) is kept for the next call.
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        session = URLSession(configuration: config)
        self.timeout = timeout
    }

    func post(_ r: OutboundRequest) async -> OutboundAnswer {
        var request = URLRequest(url: r.url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        for (name, value) in r.headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(r.body)
        return await withCheckedContinuation { done in
            session.dataTask(with: request) { _, response, error in
                if let http = response as? HTTPURLResponse {
                    done.resume(returning: .answered(status: http.statusCode,
                                                     retryAfter: http.value(forHTTPHeaderField: "Retry-After")))
                } else {
                    let reason = (error as? URLError).map { "transport error \($0.code.rawValue)" } ?? "no response"
                    done.resume(returning: .unreachable(reason))
                }
            }.resume()
        }
    }
}
