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
                      let decoded = bytes(fromHexDigits: Array(encoded[(index + 1)...(index + 2)])),
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
