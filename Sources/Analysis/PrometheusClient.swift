import Foundation
import FunctionHTTP

/// A time range a round looks at: the round's own interval, so a round run late (after a restart) sees the same
/// data it would have seen on time.
public struct QueryWindow: Sendable, Equatable {
    public var from: Date
    public var to: Date
    public init(from: Date, to: Date) { self.from = from; self.to = to }
}

/// Prometheus' HTTP API, `GET /api/v1/query_range`, as PipeCD's provider calls it (step 1m, or the range when that is
/// shorter). Every value of every series in the window comes back, in order.
public struct PrometheusClient: Sendable {
    public let name: String
    let address: URL
    let authorization: String?
    let timeout: Double

    public init(name: String, address: URL, authorization: String? = nil, timeout: Double = 30) {
        self.name = name; self.address = address; self.authorization = authorization; self.timeout = timeout
    }

    /// A query the provider refused or could not answer, worded for the stage log.
    public struct QueryFailed: Error, CustomStringConvertible, Sendable { public let description: String }

    public func values(_ query: String, in window: QueryWindow) throws -> [Double] {
        let step = max(0.001, min(60, window.to.timeIntervalSince(window.from)))
        guard var url = URLComponents(url: address.appendingPathComponent("api/v1/query_range"), resolvingAgainstBaseURL: false) else {
            throw QueryFailed(description: "cannot build a query URL on \(address)")
        }
        url.queryItems = [.init(name: "query", value: query),
                          .init(name: "start", value: Self.seconds(window.from)),
                          .init(name: "end", value: Self.seconds(window.to)),
                          .init(name: "step", value: Self.seconds(step))]
        // `+` is a space in a query string: PromQL's additions must reach Prometheus as `+`.
        let encoded = url.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        url.percentEncodedQuery = encoded
        guard let target = url.url else { throw QueryFailed(description: "cannot build a query URL on \(address)") }
        let answer: HTTPAnswer
        do {
            answer = try HTTPTransport(timeout: timeout).send(method: "GET", url: target,
                                                              headers: authorization.map { ["Authorization": $0] } ?? [:], body: [])
        } catch {
            throw QueryFailed(description: "\(name): \(error)")
        }
        let body = try? JSONDecoder().decode(Response.self, from: Data(answer.body))
        guard answer.status == 200, let body, body.status == "success", let data = body.data else {
            let reason = body?.error ?? String(decoding: answer.body.prefix(300), as: UTF8.self)
            throw QueryFailed(description: "\(name) answered \(answer.status): \(reason)")
        }
        return data.result.flatMap { $0.values ?? $0.value.map { [$0] } ?? [] }.map(\.value)
    }

    static func seconds(_ date: Date) -> String { seconds(date.timeIntervalSince1970) }
    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }

    /// `{"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {...}, "values": [[t, "v"]]}]}}`;
    /// a scalar or vector result carries one `value` per series instead.
    struct Response: Decodable {
        var status: String
        var error: String?
        var data: ResultData?
        struct ResultData: Decodable { var result: [Series] }
        struct Series: Decodable {
            var values: [Sample]?
            var value: Sample?
        }
    }

    /// `[1712345678.123, "0.25"]`: Prometheus writes the value as text (also `NaN`, `+Inf`).
    struct Sample: Decodable {
        var value: Double
        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            _ = try c.decode(Double.self)
            let text = try c.decode(String.self)
            guard let v = Double(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(text) is not a number")
            }
            value = v
        }
    }
}
