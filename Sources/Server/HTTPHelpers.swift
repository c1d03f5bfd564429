import Foundation
import GantryAPI
import Hummingbird

/// JSON responses with an explicit status: the API's codes are part of its contract.
func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func problem(_ status: HTTPResponse.Status, _ reason: String) -> Response {
    json(Message(status: "error", reason: reason), status: status)
}

extension Request {
    /// Lower-cased header names to values; repeated headers keep the first value.
    var headerDictionary: [String: String] {
        var out: [String: String] = [:]
        for field in headers where out[field.name.canonicalName] == nil {
            out[field.name.canonicalName] = field.value
        }
        return out
    }

    func decodeJSONBody<T: Decodable>(_ type: T.Type, limit: Int = 1 << 20) async throws -> T? {
        let buffer = try await body.collect(upTo: limit)
        if buffer.readableBytes == 0 { return nil }
        return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    }
}
