import FunctionKit
@_exported import KubernetesManifests

/// A failure of the stage's own input (app config, platform, stage settings, manifests), typed so a stage's
/// `retry.nonRetryable` can name it (SPEC "Typed errors"); kubectl's failures are `KubectlError`s.
public struct StageError: Error, CustomStringConvertible, Sendable {
    public let type: String
    public let description: String

    public init(type: String, description: String) { self.type = type; self.description = description }

    static func invalidPlatform(_ text: String) -> StageError { StageError(type: "InvalidPlatform", description: text) }
    static func invalidStage(_ text: String) -> StageError { StageError(type: "InvalidStageConfig", description: text) }
    static func invalidManifest(_ text: String) -> StageError { StageError(type: "InvalidManifest", description: text) }
}

extension FunctionResult {
    /// A failed result typed after what went wrong; only an unreachable cluster, a conflict or a server error is
    /// worth another attempt.
    static func failure(_ error: Error) -> FunctionResult {
        let type: String, retryable: Bool
        switch error {
        case let k as KubectlError: type = k.type; retryable = k.isRetryable
        case let s as StageError: type = s.type; retryable = false
        case is YAMLValues.Problem: type = "InvalidManifest"; retryable = false
        default: type = "Failed"; retryable = false
        }
        let message = String(describing: error)
        return FunctionResult(status: .failed, message: message,
                              error: FunctionError(type: type, message: message, retryable: retryable))
    }
}
