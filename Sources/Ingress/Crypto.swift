import COpenSSL

/// HMAC from the system libcrypto: SHA-256 is the scheme GitHub, Gitea, Bitbucket and most hosts sign with;
/// SHA-1 only for GitHub's legacy `X-Hub-Signature`, and only where a binding explicitly allows it.
public enum HMACSHA256 {
    public static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] { hmac(EVP_sha256(), key: key, message: message) }

    static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] { hmac(EVP_sha1(), key: key, message: message) }

    private static func hmac(_ md: OpaquePointer?, key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard key.count <= Int(Int32.max) else { return [] }
        // OpenSSL reads a NULL key as "reuse the previous key"; an empty array has no base address, so
        // lend it a real (unread) byte to keep the empty key meaning "empty key".
        let keyBytes = key.isEmpty ? [0] : key
        let digest = keyBytes.withUnsafeBufferPointer { k in
            withNonNullBytes(message) { m, count in
                out.withUnsafeMutableBufferPointer { o in
                    HMAC(md, k.baseAddress, Int32(key.count), m, count, o.baseAddress, &length)
                }
            }
        }
        // A failing libcrypto yields no MAC at all: an empty array never equals a received signature,
        // so verification fails closed instead of crashing the server.
        guard digest != nil else { return [] }
        return Array(out.prefix(Int(length)))
    }

    /// Lower-case hex, the form hosts put in their signature headers.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Compares two byte strings in time that does not depend on where they differ (CRYPTO_memcmp).
/// Lengths are not secret (a signature's length is public), so unequal lengths return false at once.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    guard !a.isEmpty else { return true }
    return a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 }
    }
}

/// Compares a presented credential (a token, a basic-auth pair) with a configured one without telling, by
/// timing, where they differ or how long the secret is: both sides are hashed to 32 bytes first.
func credentialEquals(_ presented: [UInt8], _ configured: [UInt8]) -> Bool {
    let a = sha256(presented), b = sha256(configured)
    return a.count == 32 && b.count == 32 && constantTimeEquals(a, b)
}

/// SHA-256 of `bytes`, used to name deliveries that arrive without a delivery id.
func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let ok = withNonNullBytes(bytes) { data, count in
        out.withUnsafeMutableBufferPointer { o in EVP_Digest(data, count, o.baseAddress, &length, EVP_sha256(), nil) }
    }
    guard ok == 1 else { return [] }
    return Array(out.prefix(Int(length)))
}

/// Decodes hex text (either case) into bytes; nil for odd length or any non-hex character.
func bytes(fromHex text: some StringProtocol) -> [UInt8]? { bytes(fromHexDigits: Array(text.utf8)) }

func bytes(fromHexDigits digits: [UInt8]) -> [UInt8]? {
    guard digits.count % 2 == 0 else { return nil }
    func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var result = [UInt8]()
    result.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
        result.append(high << 4 | low)
        index += 2
    }
    return result
}

/// Hands C a non-null pointer even for an empty message (some libcrypto paths reject NULL data).
private func withNonNullBytes<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
    if bytes.isEmpty {
        let spare: [UInt8] = [0]
        return spare.withUnsafeBufferPointer { body($0.baseAddress!, 0) }
    }
    return bytes.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
}
