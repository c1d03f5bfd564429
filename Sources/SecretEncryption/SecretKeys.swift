import COpenSSL
import Foundation

/// An RSA key read from PEM into the system libcrypto. The public half seals secrets (`gantry encrypt`, anyone with
/// the key); only the server, holding the private half, opens them, when it writes a deployment's sources.
public final class SecretKey: @unchecked Sendable {
    let key: OpaquePointer
    public let isPrivate: Bool

    public struct Unreadable: Error, CustomStringConvertible { public let description: String }

    /// A PEM `PUBLIC KEY` (`openssl pkey -pubout`).
    public static func publicKey(pem: String) throws -> SecretKey {
        try read(pem, isPrivate: false) { PEM_read_bio_PUBKEY($0, nil, nil, nil) }
    }

    /// A PEM private key (`openssl genpkey -algorithm RSA`), unencrypted.
    public static func privateKey(pem: String) throws -> SecretKey {
        try read(pem, isPrivate: true) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
    }

    private static func read(_ pem: String, isPrivate: Bool, _ body: (OpaquePointer?) -> OpaquePointer?) throws -> SecretKey {
        let bytes = Array(pem.utf8)
        let key: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
        guard let key else {
            throw Unreadable(description: "not a PEM \(isPrivate ? "private" : "public") key (\(OpenSSLError.last()))")
        }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            EVP_PKEY_free(key)
            throw Unreadable(description: "the key is not an RSA key")
        }
        return SecretKey(key, isPrivate: isPrivate)
    }

    private init(_ key: OpaquePointer, isPrivate: Bool) { self.key = key; self.isPrivate = isPrivate }
    deinit { EVP_PKEY_free(key) }

    /// The public half as PEM, to hand out (`GET /api/v1/encryption/public-key`).
    public func publicPEM() -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PUBKEY(bio, key) == 1 else { return "" }
        var pointer: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        guard let pointer, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), as: UTF8.self)
    }
}

enum OpenSSLError {
    /// The last libcrypto error as text, for messages; clears the queue.
    static func last() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "no detail from libcrypto" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        ERR_clear_error()
        return String(cString: buffer)
    }
}
