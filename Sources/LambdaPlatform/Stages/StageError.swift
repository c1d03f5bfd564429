import FunctionKit

/// A failure of the stage's own input (app config, platform, stage settings), with the type a stage's
/// `retry.nonRetryable` can name (SPEC "Typed errors"); AWS's failures carry AWS's error code instead.
struct StageError: Error, CustomStringConvertible {
    let type: String
    let description: String

    static func invalidPlatform(_ text: String) -> StageError { StageError(type: "InvalidPlatform", description: text) }
    static func invalidStage(_ text: String) -> StageError { StageError(type: "InvalidStageConfig", description: text) }
}

extension FunctionResult {
    /// A failed result typed after what went wrong; only AWS's throttling, 5xx and lost connections are retryable.
    static func failure(_ error: Error) -> FunctionResult {
        let type: String, retryable: Bool
        switch error {
        case let aws as AWSError: type = aws.code; retryable = aws.isRetryable
        case let stage as StageError: type = stage.type; retryable = false
        case is YAMLDocument.Problem, is ZipArchive.Problem: type = "InvalidManifest"; retryable = false
        default: type = "Failed"; retryable = false
        }
        let message = String(describing: error)
        return FunctionResult(status: .failed, message: message,
                              error: FunctionError(type: type, message: message, retryable: retryable))
    }
}
