import Foundation
import FunctionHTTP
import FunctionKit

/// How often and how long to try a call again when AWS throttles or fails on its side.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var initialDelay: Double
    public var maxDelay: Double
    public init(maxAttempts: Int = 6, initialDelay: Double = 0.2, maxDelay: Double = 10) {
        self.maxAttempts = maxAttempts; self.initialDelay = initialDelay; self.maxDelay = maxDelay
    }

    /// Exponential with "equal jitter": half the step fixed, half random, so a burst of callers spreads out.
    func delay(afterAttempt attempt: Int) -> Double {
        let step = min(maxDelay, initialDelay * pow(2, Double(attempt - 1)))
        return step / 2 + Double.random(in: 0...(step / 2))
    }
}

/// Signed calls to one AWS service endpoint, retried with backoff on throttling, 5xx and lost connections.
public final class AWSClient: Sendable {
    public let endpoint: URL
    public let signer: SigV4
    let transport: HTTPTransport
    let retry: RetryPolicy
    /// No retry is started that could not finish before this (the invocation's deadline).
    let deadline: Date?
    let log: @Sendable (String) -> Void

    public init(endpoint: URL, signer: SigV4, retry: RetryPolicy = RetryPolicy(), deadline: Date? = nil,
                transport: HTTPTransport = HTTPTransport(), log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.endpoint = endpoint; self.signer = signer; self.retry = retry; self.deadline = deadline
        self.transport = transport; self.log = log
    }

    /// The Host header as the server will see it: the port only when it is not the scheme's default.
    var hostHeader: String {
        let host = endpoint.host ?? ""
        guard let port = endpoint.port else { return host }
        let scheme = endpoint.scheme?.lowercased()
        if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) { return host }
        return "\(host):\(port)"
    }

    /// Sends one call. `path` is unencoded (an ARN may appear as it is). Throws `AWSError` with AWS's code and
    /// message once the call fails for good.
    public func send(_ operation: String, method: String, path: String, query: [(name: String, value: String)] = [],
                     contentType: String? = nil, body: [UInt8] = []) throws -> HTTPAnswer {
        let basePath = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        var attempt = 0
        while true {
            attempt += 1
            var request = AWSRequest(method: method, path: basePath + path, query: query,
                                     headers: ["Host": hostHeader], body: body)
            if let contentType { request.headers["Content-Type"] = contentType }
            signer.sign(&request, at: Date().timeIntervalSince1970)
            var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)!
            components.percentEncodedPath = request.wirePath
            components.percentEncodedQuery = query.isEmpty ? nil : request.wireQuery
            var headers = request.headers
            headers["Host"] = nil     // URLSession writes the same Host itself from the URL
            let failure: AWSError
            var retryAfter: Double?
            do {
                let answer = try transport.send(method: method, url: components.url!, headers: headers, body: body)
                if (200..<300).contains(answer.status) { return answer }
                failure = AWSError.parse(operation: operation, status: answer.status, headers: answer.headers, body: answer.body)
                retryAfter = answer.headers.first { $0.key.lowercased() == "retry-after" }.flatMap { Double($0.value) }
            } catch let error as TransportFailure {
                failure = AWSError(operation: operation, status: 0, code: "NetworkError", message: error.description)
            }
            guard failure.isRetryable, attempt < retry.maxAttempts else { throw failure }
            let wait = max(retryAfter ?? 0, retry.delay(afterAttempt: attempt))
            if let deadline, Date().addingTimeInterval(wait + 1) >= deadline { throw failure }
            log("\(failure.code) from \(operation): \(failure.message); retrying in \(String(format: "%.1f", wait))s "
                + "(attempt \(attempt + 1) of \(retry.maxAttempts))")
            Thread.sleep(forTimeInterval: wait)
        }
    }

    /// A JSON call (the REST-JSON protocol Lambda speaks): JSON in, JSON out; an empty answer is `{}`.
    public func json(_ operation: String, method: String, path: String, query: [(name: String, value: String)] = [],
                     body: JSONValue? = nil) throws -> JSONValue {
        let bytes = body.map { Array($0.encoded().utf8) } ?? []
        let answer = try send(operation, method: method, path: path, query: query,
                              contentType: body == nil ? nil : "application/json", body: bytes)
        if answer.body.isEmpty { return .object([:]) }
        do { return try JSONValue.decode(String(decoding: answer.body, as: UTF8.self)) } catch {
            throw AWSError(operation: operation, status: answer.status, code: "InvalidResponse",
                           message: "the answer is not JSON: \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
        }
    }
}
