import CoreMetrics
import FunctionHost
import Store

/// Per-function figures for Prometheus (exported by the server's /metrics): invocation counts by outcome and
/// error type, and the host's rusage-based timings.
enum Metrics {
    static func recordInvocation(function: String, decision: OutcomeDecision, report: AttemptReport) {
        let dims = [("function", function), ("status", decision.status.rawValue), ("error_type", decision.errorType ?? "")]
        Counter(label: "gantry_invocations_total", dimensions: dims).increment()
        Timer(label: "gantry_invocation_wall_seconds", dimensions: [("function", function)])
            .recordMilliseconds(report.wallMs)
        Timer(label: "gantry_invocation_cpu_seconds", dimensions: [("function", function)])
            .recordMilliseconds(report.cpuMs)
        Recorder(label: "gantry_invocation_max_rss_kib", dimensions: [("function", function)], aggregate: true)
            .record(report.maxRssKiB)
    }
}
