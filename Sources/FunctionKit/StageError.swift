/// A failure of a stage's own input (app config, platform entry, stage settings, manifests), typed so a stage's
/// `retry.nonRetryable` can name it (docs/function-protocol.md, "Retries"). Never retryable: the same input fails
/// the same way.
public struct StageError: Error, CustomStringConvertible, Sendable {
    public let type: String
    public let description: String

    public init(type: String, description: String) { self.type = type; self.description = description }

    public static func invalidPlatform(_ text: String) -> StageError { StageError(type: "InvalidPlatform", description: text) }
    public static func invalidStage(_ text: String) -> StageError { StageError(type: "InvalidStageConfig", description: text) }
    public static func invalidManifest(_ text: String) -> StageError { StageError(type: "InvalidManifest", description: text) }
}

extension FunctionResult {
    /// A failed result typed after `error`. `classify` names a platform's own errors (its type, and whether another
    /// attempt may succeed); a `StageError` carries its type; anything else is "Failed". None but the platform's
    /// say-so is retryable.
    public static func failure(_ error: Error, classify: (Error) -> (type: String, retryable: Bool)?) -> FunctionResult {
        let kind = classify(error) ?? ((error as? StageError).map { ($0.type, false) } ?? ("Failed", false))
        let message = String(describing: error)
        return FunctionResult(status: .failed, message: message,
                              error: FunctionError(type: kind.type, message: message, retryable: kind.retryable))
    }
}
