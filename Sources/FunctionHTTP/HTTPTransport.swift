import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What came back from one HTTP exchange.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
}

/// A transport failure before any answer (refused, reset, timed out), worded for a stage log.
public struct TransportFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Blocking HTTP over FoundationNetworking's URLSession (libcurl on Linux), for functions that call out (AWS,
/// Prometheus, health endpoints). A function runs one stage at a time on one thread, so waiting here is simpler
/// than threading async through every step.
public final class HTTPTransport: Sendable {
    private let session: URLSession
    private let timeout: Double

    public init(timeout: Double = 60) {
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.httpCookieStorage = nil
        config.urlCache = nil
        session = URLSession(configuration: config)
        self.timeout = timeout
    }

    public func send(method: String, url: URL, headers: [String: String], body: [UInt8]) throws -> HTTPAnswer {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if !body.isEmpty || method == "POST" || method == "PUT" { request.httpBody = Data(body) }

        final class Box: @unchecked Sendable { var answer: HTTPAnswer?; var error: Error? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            if let http = response as? HTTPURLResponse {
                var fields: [String: String] = [:]
                for (k, v) in http.allHeaderFields { fields[String(describing: k)] = String(describing: v) }
                box.answer = HTTPAnswer(status: http.statusCode, headers: fields, body: data.map(Array.init) ?? [])
            } else {
                box.error = error
            }
            done.signal()
        }
        task.resume()
        done.wait()
        if let answer = box.answer { return answer }
        let reason = (box.error as? URLError).map { "\($0.code.rawValue) \($0.localizedDescription)" }
            ?? box.error.map { "\($0)" } ?? "no response"
        throw TransportFailure(description: "\(method) \(url.absoluteString): \(reason)")
    }
}
