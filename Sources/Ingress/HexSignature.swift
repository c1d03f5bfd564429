import Digest

/// The signature scheme most hosts share: a header holding `<prefix><hex HMAC of the bytes>` (GitHub
/// `X-Hub-Signature-256: sha256=…`, Bitbucket `X-Hub-Signature: sha256=…`, Gitea's bare hex, Flux `X-Signature`).
struct HexSignature {
    enum Algorithm {
        case sha256, sha1
        var byteCount: Int { self == .sha256 ? 32 : 20 }
        func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
            self == .sha256 ? Digest.hmacSHA256(key: key, message) : Digest.hmacSHA1(key: key, message)
        }
    }

    /// The header as hosts spell it, for messages (e.g. "X-Hub-Signature-256").
    let header: String
    /// "sha256=", or "" for a bare hex digest.
    let prefix: String
    var algorithm: Algorithm = .sha256

    /// Checks `value` against the HMAC of `message` under every secret. Every secret is tried, without
    /// stopping at the first match, so timing does not tell which one matched.
    func verify(_ value: String?, message: [UInt8], secrets: [[UInt8]]) -> Authentication {
        guard let value else { return .rejected("\(header) header missing") }
        let digits = algorithm.byteCount * 2
        guard value.hasPrefix(prefix), let received = Digest.bytes(fromHex: value.dropFirst(prefix.count)),
              received.count == algorithm.byteCount
        else { return .rejected("\(header) is not of the form \(prefix)<\(digits) hex digits>") }
        var matched = false
        for secret in secrets where Digest.constantTimeEqual(algorithm.mac(key: secret, message: message), received) {
            matched = true
        }
        return matched ? .verified : .rejected("\(header) does not match the body with any configured secret")
    }
}
