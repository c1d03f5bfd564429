import COpenSSL

/// SHA-256, HMAC, hex, constant-time comparison and random bytes from the system libcrypto: the one place Gantry
/// calls OpenSSL's digest and random functions. Hex is lower case throughout (the form hosts, AWS and the store use).
public enum Digest {
    /// SHA-256 of `bytes` (32 bytes); empty only if libcrypto fails, so a failure never equals a real digest.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = withNonNullBytes(bytes) { data, count in
            out.withUnsafeMutableBufferPointer { o in EVP_Digest(data, count, o.baseAddress, &length, EVP_sha256(), nil) }
        }
        guard ok == 1 else { return [] }
        return Array(out.prefix(Int(length)))
    }

    /// SHA-256 of the UTF-8 of `text`.
    public static func sha256(_ text: String) -> [UInt8] { sha256(Array(text.utf8)) }

    /// SHA-256 in hex: what the store keeps of a session secret or an API token.
    public static func sha256Hex(_ bytes: [UInt8]) -> String { hex(sha256(bytes)) }

    public static func sha256Hex(_ text: String) -> String { hex(sha256(text)) }

    /// HMAC-SHA256: webhook signatures and AWS Signature Version 4.
    public static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] { hmac(EVP_sha256(), key: key, message: message) }

    /// HMAC-SHA1, only for GitHub's legacy `X-Hub-Signature` where a binding explicitly allows it.
    public static func hmacSHA1(key: [UInt8], _ message: [UInt8]) -> [UInt8] { hmac(EVP_sha1(), key: key, message: message) }

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

    /// Compares two byte strings in time that does not depend on where they differ (CRYPTO_memcmp).
    /// Lengths are not secret (a signature's length is public), so unequal lengths return false at once.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 }
        }
    }

    /// The same over the UTF-8 of two strings (CSRF tokens).
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool { constantTimeEqual(Array(a.utf8), Array(b.utf8)) }

    /// `count` bytes from OpenSSL's CSPRNG. A CSPRNG that cannot deliver stops the process: no secret is ever
    /// made of predictable bytes.
    public static func randomBytes(count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        precondition(count <= Int(Int32.max) && RAND_bytes(&buffer, Int32(count)) == 1, "OpenSSL RAND_bytes failed")
        return buffer
    }

    /// `bytes` random bytes in hex: session secrets, API tokens, callback tokens, demo secrets.
    public static func randomHex(bytes: Int) -> String { hex(randomBytes(count: bytes)) }
}

/// Hands C a non-null pointer even for an empty message (some libcrypto paths reject NULL data).
func withNonNullBytes<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
    if bytes.isEmpty {
        let spare: [UInt8] = [0]
        return spare.withUnsafeBufferPointer { body($0.baseAddress!, 0) }
    }
    return bytes.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
}
