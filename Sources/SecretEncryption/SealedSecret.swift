import COpenSSL
import Foundation

/// A secret sealed for the server's key pair, as text that can live in Git: base64 of
/// `"G1" | key length (2 bytes, big-endian) | RSA-OAEP(SHA-256) of a fresh AES-256 key | 12-byte nonce | AES-256-GCM
/// ciphertext | 16-byte tag`, the first two bytes authenticated with it. RSA alone could seal only a few hundred
/// bytes; the fresh key lets a secret be any size, and GCM's tag refuses a value that was altered.
public enum SealedSecret {
    static let header: [UInt8] = Array("G1".utf8)

    public struct Unopenable: Error, CustomStringConvertible { public let description: String }

    public static func seal(_ plaintext: [UInt8], for key: SecretKey) throws -> String {
        var aesKey = [UInt8](repeating: 0, count: 32), nonce = [UInt8](repeating: 0, count: 12)
        guard RAND_bytes(&aesKey, 32) == 1, RAND_bytes(&nonce, 12) == 1 else {
            throw Unopenable(description: "no random bytes from libcrypto (\(OpenSSLError.last()))")
        }
        let wrapped = try rsa(aesKey, key: key, encrypt: true)
        let (ciphertext, tag) = try gcm(plaintext, key: aesKey, nonce: nonce, tag: nil)
        var out = header
        out += [UInt8(wrapped.count >> 8), UInt8(wrapped.count & 0xff)] + wrapped + nonce + ciphertext + tag
        return Data(out).base64EncodedString()
    }

    public static func open(_ text: String, with key: SecretKey) throws -> [UInt8] {
        guard key.isPrivate else { throw Unopenable(description: "opening needs the private key") }
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Unopenable(description: "not base64")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 4 + 12 + 16, Array(bytes[0..<2]) == header else {
            throw Unopenable(description: "not a sealed secret of this format (made by gantry encrypt?)")
        }
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        guard bytes.count >= 4 + length + 12 + 16 else { throw Unopenable(description: "truncated") }
        let wrapped = Array(bytes[4..<(4 + length)])
        let nonce = Array(bytes[(4 + length)..<(4 + length + 12)])
        let ciphertext = Array(bytes[(4 + length + 12)..<(bytes.count - 16)])
        let tag = Array(bytes[(bytes.count - 16)...])
        let aesKey: [UInt8]
        do { aesKey = try rsa(wrapped, key: key, encrypt: false) } catch {
            throw Unopenable(description: "it was not sealed for this server's key")
        }
        guard aesKey.count == 32 else { throw Unopenable(description: "it was not sealed for this server's key") }
        return try gcm(ciphertext, key: aesKey, nonce: nonce, tag: tag).output
    }

    /// RSA-OAEP with SHA-256 (and MGF1 with SHA-256), one call of EVP_PKEY_encrypt or _decrypt.
    private static func rsa(_ input: [UInt8], key: SecretKey, encrypt: Bool) throws -> [UInt8] {
        guard let ctx = EVP_PKEY_CTX_new(key.key, nil) else { throw Unopenable(description: OpenSSLError.last()) }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1,
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1,
              EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1,
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 else {
            throw Unopenable(description: "RSA-OAEP setup failed (\(OpenSSLError.last()))")
        }
        var length = 0
        let run = { (out: UnsafeMutablePointer<UInt8>?, length: inout Int) -> Int32 in
            encrypt ? EVP_PKEY_encrypt(ctx, out, &length, input, input.count)
                    : EVP_PKEY_decrypt(ctx, out, &length, input, input.count)
        }
        guard run(nil, &length) == 1 else { throw Unopenable(description: "RSA-OAEP failed (\(OpenSSLError.last()))") }
        var out = [UInt8](repeating: 0, count: length)
        guard out.withUnsafeMutableBufferPointer({ run($0.baseAddress, &length) }) == 1 else {
            throw Unopenable(description: "RSA-OAEP failed (\(OpenSSLError.last()))")
        }
        return Array(out.prefix(length))
    }

    /// AES-256-GCM over `input` with the header as additional data; with `tag` it decrypts and checks it.
    private static func gcm(_ input: [UInt8], key: [UInt8], nonce: [UInt8],
                            tag: [UInt8]?) throws -> (output: [UInt8], tag: [UInt8]) {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw Unopenable(description: OpenSSLError.last()) }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let decrypting = tag != nil
        let initialise = decrypting ? EVP_DecryptInit_ex : EVP_EncryptInit_ex
        let update = decrypting ? EVP_DecryptUpdate : EVP_EncryptUpdate
        var length: Int32 = 0
        guard initialise(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonce.count), nil) == 1,
              initialise(ctx, nil, nil, key, nonce) == 1,
              update(ctx, nil, &length, header, Int32(header.count)) == 1 else {
            throw Unopenable(description: "AES-GCM setup failed (\(OpenSSLError.last()))")
        }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var written: Int32 = 0
        if !input.isEmpty {
            guard update(ctx, &out, &written, input, Int32(input.count)) == 1 else {
                throw Unopenable(description: "AES-GCM failed (\(OpenSSLError.last()))")
            }
        }
        var outTag = [UInt8](repeating: 0, count: 16)
        if var expected = tag {
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, &expected) == 1 else {
                throw Unopenable(description: "AES-GCM tag failed (\(OpenSSLError.last()))")
            }
        }
        var final: Int32 = 0
        let finished = out.withUnsafeMutableBufferPointer { buffer in
            decrypting ? EVP_DecryptFinal_ex(ctx, buffer.baseAddress! + Int(written), &final)
                       : EVP_EncryptFinal_ex(ctx, buffer.baseAddress! + Int(written), &final)
        }
        guard finished == 1 else {
            ERR_clear_error()
            throw Unopenable(description: "it was altered, or not sealed for this server's key")
        }
        if !decrypting {
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &outTag) == 1 else {
                throw Unopenable(description: "AES-GCM tag failed (\(OpenSSLError.last()))")
            }
        }
        return (Array(out.prefix(Int(written + final))), outTag)
    }
}
