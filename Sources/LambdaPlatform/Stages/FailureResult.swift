import FunctionKit
import RepositoryYAML

extension FunctionResult {
    /// Only AWS's throttling, 5xx and lost connections are retryable (`AWSError` says).
    static func failure(_ error: Error) -> FunctionResult {
        failure(error) { error in
            switch error {
            case let aws as AWSError: (aws.code, aws.isRetryable)
            case is RepositoryYAML.Problem, is ZipArchive.Problem: ("InvalidManifest", false)
            default: nil
            }
        }
    }
}
