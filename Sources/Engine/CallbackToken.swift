import Digest

/// The credential of `POST /api/v1/callbacks/{token}`: 256 random bits from OpenSSL's CSPRNG. Only its SHA-256 is
/// stored, so the database alone cannot be used to resolve someone's stage.
public enum CallbackToken {
    public static func make() -> (token: String, hash: String) {
        let token = Digest.randomHex(bytes: 32)
        return (token, hash(token))
    }

    public static func hash(_ token: String) -> String { Digest.sha256Hex(token) }
}
