import Foundation

/// The credential a Git host call carries: a fixed token, or one fetched and renewed (a GitHub App's
/// installation token).
public protocol HostToken: Sendable {
    func token(now: Date) async throws -> String
}

/// A personal or project access token from the config.
public struct StaticToken: HostToken {
    let value: String
    public init(_ value: String) { self.value = value }
    public func token(now: Date) async throws -> String { value }
}
