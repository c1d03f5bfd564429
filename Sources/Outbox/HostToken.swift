import Foundation

/// The credential a Git host call carries: a fixed token, or one fetched and renewed (a GitHub App's
/// installation token).
public protocol HostToken: Sendable {
    func token(now: Date) async throws -> String
    /// The host answered 401 to a call carrying `value`. True when the next call will carry another credential, so
    /// the refusal is worth another attempt rather than a dead letter.
    func refused(_ value: String) async -> Bool
}

extension HostToken {
    public func refused(_ value: String) async -> Bool { false }
}

/// A personal or project access token from the config.
public struct StaticToken: HostToken {
    let value: String
    public init(_ value: String) { self.value = value }
    public func token(now: Date) async throws -> String { value }
}
