import FunctionKit

extension FunctionResult {
    /// Only an unreachable cluster, a conflict or a server error is worth another attempt (`KubectlError` says).
    static func failure(_ error: Error) -> FunctionResult {
        failure(error) { error in
            switch error {
            case let k as KubectlError: (k.type, k.isRetryable)
            case is YAMLValues.Problem: ("InvalidManifest", false)
            default: nil
            }
        }
    }
}
