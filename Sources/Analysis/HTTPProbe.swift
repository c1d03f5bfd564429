import Foundation
import FunctionHTTP

/// One round of an HTTP check: a request now, judged by its status code and, when given, by whether the body
/// holds `expectedResponse`.
public enum HTTPProbe {
    public static func run(_ check: HTTPCheck, url: String) -> RoundVerdict {
        let target = "\(check.method) \(url)"
        guard let address = URL(string: url), address.scheme == "http" || address.scheme == "https" else {
            return .failed("\(target): not an http(s) URL")
        }
        var headers: [String: String] = [:]
        for header in check.headers { headers[header.key] = header.value }
        let answer: HTTPAnswer
        do {
            answer = try HTTPTransport(timeout: check.timeout).send(method: check.method, url: address, headers: headers, body: [])
        } catch {
            return .failed("\(error)")
        }
        guard answer.status == check.expectedCode else {
            return .failed("\(target) answered \(answer.status), expected \(check.expectedCode)")
        }
        if let expected = check.expectedResponse,
           !String(decoding: answer.body, as: UTF8.self).contains(expected) {
            return .failed("\(target) answered \(answer.status) without \"\(expected)\" in its body")
        }
        return .passed("\(target) answered \(answer.status)")
    }
}
