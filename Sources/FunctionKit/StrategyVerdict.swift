/// The planning invocation (docs/function-protocol.md, "Planning"). A function that declares
/// `determinesStrategy: true` for an app kind is invoked once per touched application, before the deployment is
/// committed, with the stage name `DETERMINE_STRATEGY` and the app's running and target sources. It compares them
/// and answers quick sync or pipeline, with the sentence that tells the user why, as one output line before a
/// `succeeded` result. A `skipped` result means it has nothing to compare, and the planner's later rules decide.
public struct StrategyVerdict: Sendable, Equatable {
    public static let stage = "DETERMINE_STRATEGY"

    public var pipeline: Bool
    public var summary: String

    public init(pipeline: Bool, summary: String) { self.pipeline = pipeline; self.summary = summary }

    /// The output line that carries the answer: `{"output": {"strategy": "PIPELINE", "summary": "..."}}`.
    public var output: [String: String] { ["strategy": pipeline ? "PIPELINE" : "QUICK_SYNC", "summary": summary] }

    /// The answer in an output line; nil when the line does not hold one.
    public init?(output: [String: String]) {
        guard let summary = output["summary"] else { return nil }
        switch output["strategy"] {
        case "PIPELINE"?: pipeline = true
        case "QUICK_SYNC"?: pipeline = false
        default: return nil
        }
        self.summary = summary
    }
}
