import COpenSSL
import Foundation
import Hummingbird

/// Bearer tokens for the API. Only SHA-256 digests are kept in memory; the config holds `env:`/`file:`
/// references, so no token is ever at rest in clear text by Gantry's doing. Compares are constant-time.
struct TokenAuth: Sendable {
    private let digests: [(name: String, digest: [UInt8])]
    /// With no tokens configured the API is open, and only on a loopback listener (checked at start).
    let open: Bool

    init(tokens: [(name: String, secret: String)]) {
        digests = tokens.map { ($0.name, sha256(Array($0.secret.utf8))) }
        open = tokens.isEmpty
    }

    /// The token's name, used as the actor's name (e.g. the approver).
    func authenticate(_ request: Request) -> String? {
        if open { return "anonymous" }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        let presented = sha256(Array(header.dropFirst(7).utf8))
        var match: String? = nil
        for entry in digests where CRYPTO_memcmp(entry.digest, presented, 32) == 0 { match = entry.name }
        return match
    }
}

func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    _ = bytes.withUnsafeBufferPointer { SHA256($0.baseAddress, $0.count, &out) }
    return out
}
