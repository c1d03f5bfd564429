/// `GET /api/v1/encryption/public-key`: the PEM public key that `gantry encrypt` seals secrets with.
public struct PublicKeyView: Codable, Sendable, Equatable {
    public var publicKey: String
    public init(publicKey: String) { self.publicKey = publicKey }
}
