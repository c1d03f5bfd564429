/// What one round of one check found, with the sentence the stage log shows.
public enum RoundVerdict: Sendable, Equatable {
    case passed(String)
    /// Counts toward the check's failureLimit.
    case failed(String)
    /// Neither: no data came back and the check has `skipOnNoData`.
    case skipped(String)
    /// The check is over, as a success: PREVIOUS has no earlier deployment to compare with (PipeCD's rule).
    case finished(String)

    public var detail: String {
        switch self {
        case .passed(let s), .failed(let s), .skipped(let s), .finished(let s): return s
        }
    }

    /// The word the log puts first.
    public var word: String {
        switch self {
        case .passed: return "ok"
        case .failed: return "FAILED"
        case .skipped: return "skipped"
        case .finished: return "done"
        }
    }
}
