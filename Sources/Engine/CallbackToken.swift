import COpenSSL
import Foundation

/// The credential of `POST /api/v1/callbacks/{token}`: 256 random bits from OpenSSL's CSPRNG. Only its SHA-256 is
/// stored, so the database alone cannot be used to resolve someone's stage.
public enum CallbackToken {
    public static func make() -> (token: String, hash: String) {
        var bytes = [UInt8](repeating: 0, count: 32)
        precondition(RAND_bytes(&bytes, 32) == 1, "OpenSSL RAND_bytes failed")
        let token = hex(bytes)
        return (token, hash(token))
    }

    public static func hash(_ token: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let bytes = Array(token.utf8)
        _ = bytes.withUnsafeBufferPointer { SHA256($0.baseAddress, $0.count, &digest) }
        return hex(digest)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
