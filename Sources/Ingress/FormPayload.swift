import Digest

/// Reads the `payload` field of an `application/x-www-form-urlencoded` body, the other content type GitHub
/// (and Gitea) can be set to send. The signature covers the raw body, so this runs only after verification.
enum FormPayload {
    static func isForm(contentType: String?) -> Bool {
        contentType?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
    }

    /// The decoded value of `field`, or nil when it is absent or badly percent-encoded.
    static func value(of field: String, in body: [UInt8]) -> [UInt8]? {
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecoded(parts[0]), name == Array(field.utf8) else { continue }
            return parts.count > 1 ? percentDecoded(parts[1]) : []
        }
        return nil
    }

    private static func percentDecoded(_ encoded: ArraySlice<UInt8>) -> [UInt8]? {
        var result = [UInt8]()
        result.reserveCapacity(encoded.count)
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let byte = encoded[index]
            if byte == UInt8(ascii: "+") {
                result.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < encoded.endIndex,
                      let decoded = Digest.bytes(fromHexDigits: Array(encoded[(index + 1)...(index + 2)])),
                      decoded.count == 1
                else { return nil }
                result.append(decoded[0])
                index += 2
            } else {
                result.append(byte)
            }
            index += 1
        }
        return result
    }
}

/// The JSON object a push delivery carries: the body itself, or the `payload` field of a form-encoded body.
enum PayloadBody {
    enum Reading {
        case object(LooseJSON)
        case unreadable(String)
    }

    /// The JSON bytes, or the reason there are none.
    static func jsonBytes(_ request: WebhookRequest) -> ([UInt8]?, reason: String) {
        guard FormPayload.isForm(contentType: request.headers.header("content-type")) else { return (request.body, "") }
        guard let payload = FormPayload.value(of: "payload", in: request.body) else {
            return (nil, "unparseable payload: form body has no payload field")
        }
        return (payload, "")
    }

    static func object(_ request: WebhookRequest, shape: PayloadShape) -> Reading {
        let (bytes, reason) = jsonBytes(request)
        guard let bytes else { return .unreadable(reason) }
        return object(bytes, shape: shape)
    }

    /// `shape`: the fields the receiver reads; the rest of the payload is checked for syntax only.
    static func object(_ bytes: [UInt8], shape: PayloadShape) -> Reading {
        guard let payload = LooseJSON.parse(bytes, shape: shape) else { return .unreadable("unparseable payload") }
        guard payload.isObject else { return .unreadable("unparseable payload: not a JSON object") }
        return .object(payload)
    }
}
