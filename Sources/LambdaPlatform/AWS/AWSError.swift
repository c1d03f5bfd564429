import Foundation
import FunctionKit

/// A failed AWS call, with AWS's own error code and message (JSON or XML), so a stage shows what AWS said.
public struct AWSError: Error, CustomStringConvertible, Sendable, Equatable {
    public var operation: String
    /// HTTP status; 0 when no answer came (connection refused, timeout).
    public var status: Int
    public var code: String
    public var message: String
    public var requestID: String?

    public init(operation: String, status: Int, code: String, message: String, requestID: String? = nil) {
        self.operation = operation; self.status = status; self.code = code; self.message = message
        self.requestID = requestID
    }

    public var description: String {
        let where_ = status == 0 ? "" : " (HTTP \(status)\(requestID.map { ", request id \($0)" } ?? ""))"
        return "AWS \(operation) failed: \(code): \(message)\(where_)"
    }

    /// Throttling, server errors, "an update is in progress" and lost connections are worth another try;
    /// everything else (bad input, missing resources, credentials) would fail the same way again.
    public var isRetryable: Bool {
        if status == 0 { return true }
        if status == 429 || status >= 500 { return true }
        let throttling: Set<String> = ["Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
                                       "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
                                       "ProvisionedThroughputExceededException", "SlowDown", "EC2ThrottledException"]
        if throttling.contains(code) { return true }
        // Lambda refuses writes while a previous update of the function is still being applied.
        return code == "ResourceConflictException" && message.lowercased().contains("in progress")
    }

    /// Reads AWS's error out of a response: the `x-amzn-ErrorType` header, a JSON body (`__type`/`code`,
    /// `message`), or an XML body (`<Code>`, `<Message>`), whichever the service sent.
    public static func parse(operation: String, status: Int, headers: [String: String], body: [UInt8]) -> AWSError {
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name }?.value }
        var code = header("x-amzn-errortype").map { String($0.split(separator: ":").first ?? "") } ?? ""
        var message = ""
        let requestID = header("x-amzn-requestid") ?? header("x-amz-request-id")
        let text = String(decoding: body, as: UTF8.self)
        if let json = try? JSONValue.decode(text), let object = json.object {
            let type = (object["__type"] ?? object["code"] ?? object["Code"])?.string ?? ""
            if code.isEmpty { code = String(type.split(separator: "#").last ?? "") }
            message = (object["message"] ?? object["Message"] ?? object["errorMessage"])?.string ?? ""
        } else if text.contains("<Code>") || text.contains("<Message>") {
            if code.isEmpty { code = xmlElement("Code", in: text) ?? "" }
            message = xmlElement("Message", in: text) ?? ""
        }
        if code.isEmpty { code = "HTTP\(status)" }
        if message.isEmpty { message = text.isEmpty ? "no message" : String(text.prefix(300)) }
        return AWSError(operation: operation, status: status, code: code, message: message, requestID: requestID)
    }

    static func xmlElement(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)>"),
              let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex) else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
