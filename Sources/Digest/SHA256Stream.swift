import COpenSSL

extension Digest {
    /// SHA-256 over data that arrives in pieces (a function's folder, file by file), without holding it all.
    public final class SHA256Stream {
        private let context: OpaquePointer

        /// nil when libcrypto cannot start a SHA-256.
        public init?() {
            guard let context = EVP_MD_CTX_new() else { return nil }
            guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { EVP_MD_CTX_free(context); return nil }
            self.context = context
        }

        deinit { EVP_MD_CTX_free(context) }

        public func update(_ bytes: UnsafeRawBufferPointer) { _ = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) }

        /// The digest of everything passed to `update`; nil when libcrypto fails.
        public func finish() -> [UInt8]? {
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            guard EVP_DigestFinal_ex(context, &digest, &length) == 1 else { return nil }
            return Array(digest.prefix(Int(length)))
        }
    }
}
