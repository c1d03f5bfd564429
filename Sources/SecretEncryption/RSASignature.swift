import COpenSSL

extension SecretKey {
    public struct SigningFailed: Error, CustomStringConvertible { public let description: String }

    /// RSASSA-PKCS1-v1_5 over SHA-256 of `message`: JWS's RS256, what a GitHub App signs its JWT with.
    public func signSHA256(_ message: [UInt8]) throws -> [UInt8] {
        guard isPrivate else { throw SigningFailed(description: "signing needs the private key, this is the public one") }
        guard let context = EVP_MD_CTX_new() else { throw SigningFailed(description: "out of memory") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            throw SigningFailed(description: "cannot start an RSA SHA-256 signature (\(OpenSSLError.last()))")
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            throw SigningFailed(description: "cannot size the signature (\(OpenSSLError.last()))")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw SigningFailed(description: "cannot sign (\(OpenSSLError.last()))")
        }
        return Array(signature.prefix(length))
    }
}
