import CoreMetrics
import FunctionHost
import Store

/// Per-function figures for Prometheus (exported by the server's /metrics): invocation counts by outcome and
/// error type, and the host's rusage-based timings. They go to the factory the engine is given, the server's own
/// registry: the process-wide MetricsSystem is bootstrapped by no one (and only once per process at most).
enum Metrics {
    static let invocations = "gantry_invocations_total"
    static let wall = "gantry_invocation_wall_seconds"
    static let cpu = "gantry_invocation_cpu_seconds"
    static let maxRSS = "gantry_invocation_max_rss_kib"
    /// Deployment rows the engine read: an event costs its own deployment, not every active one.
    static let deploymentsReadTotal = "gantry_engine_deployments_read_total"
    static let sweepsTotal = "gantry_engine_sweeps_total"

    static func deploymentsRead(_ count: Int, factory: any MetricsFactory) {
        Counter(label: deploymentsReadTotal, factory: factory).increment(by: count)
    }

    static func sweep(factory: any MetricsFactory) {
        Counter(label: sweepsTotal, factory: factory).increment()
    }

    static func recordInvocation(function: String, decision: OutcomeDecision, report: AttemptReport,
                                 factory: any MetricsFactory) {
        let dims = [("function", function), ("status", decision.status.rawValue), ("error_type", decision.errorType ?? "")]
        Counter(label: invocations, dimensions: dims, factory: factory).increment()
        Timer(label: wall, dimensions: [("function", function)], factory: factory).recordMilliseconds(report.wallMs)
        Timer(label: cpu, dimensions: [("function", function)], factory: factory).recordMilliseconds(report.cpuMs)
        Recorder(label: maxRSS, dimensions: [("function", function)], aggregate: true, factory: factory)
            .record(report.maxRssKiB)
    }
}
