import Digest

/// Compares a presented credential (a token, a basic-auth pair) with a configured one without telling, by
/// timing, where they differ or how long the secret is: both sides are hashed to 32 bytes first.
func credentialEquals(_ presented: [UInt8], _ configured: [UInt8]) -> Bool {
    let a = Digest.sha256(presented), b = Digest.sha256(configured)
    return a.count == 32 && b.count == 32 && Digest.constantTimeEqual(a, b)
}
