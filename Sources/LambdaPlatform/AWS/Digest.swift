import COpenSSL

/// SHA-256 and HMAC-SHA256 from the system libcrypto: the two primitives Signature Version 4 is built from.
public enum Digest {
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        // An empty array has no base address; libcrypto is happy with any pointer and a length of 0.
        let input = data.isEmpty ? [0] : data
        input.withUnsafeBufferPointer { bytes in
            out.withUnsafeMutableBufferPointer { _ = SHA256(bytes.baseAddress, data.count, $0.baseAddress) }
        }
        return out
    }

    public static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // OpenSSL takes a NULL key as "the previous key": lend both inputs a real byte when they are empty.
        let k = key.isEmpty ? [0] : key, d = data.isEmpty ? [0] : data
        k.withUnsafeBufferPointer { kp in
            d.withUnsafeBufferPointer { dp in
                out.withUnsafeMutableBufferPointer { op in
                    _ = HMAC(EVP_sha256(), kp.baseAddress, Int32(key.count), dp.baseAddress, data.count,
                             op.baseAddress, &length)
                }
            }
        }
        return Array(out.prefix(Int(length)))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(bytes.count * 2)
        for b in bytes { text.append(digits[Int(b >> 4)]); text.append(digits[Int(b & 15)]) }
        return text
    }
}
