import Metrics
import Prometheus

/// The server's own Prometheus registry (not the process-wide MetricsSystem, which can be bootstrapped only
/// once per process, while tests assemble several servers): ingress and the engine's per-function invocation
/// figures count into it through swift-metrics, the rest is set here. `GET /metrics` prints it.
struct ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let queueDepth: Prometheus.Gauge
    let hooksInFlight: Prometheus.Gauge
    private let catches: [String: Prometheus.Counter]

    init(repositories: [String]) {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Ingest is a verify plus one group-committed fsync: milliseconds, so finer buckets than the default.
        factory.durationHistogramBuckets["gantry_webhook_ingest_duration_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        // A stage runs for milliseconds (a script) to an hour (a rollout waiting on a cluster).
        let stageDurations: [Duration] = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120),
            .seconds(300), .seconds(600), .seconds(1800), .seconds(3600),
        ]
        factory.durationHistogramBuckets["gantry_invocation_wall_seconds"] = stageDurations
        factory.durationHistogramBuckets["gantry_invocation_cpu_seconds"] = stageDurations
        // Peak RSS in KiB: 1 MiB to 4 GiB.
        factory.valueHistogramBuckets["gantry_invocation_max_rss_kib"] = (0...12).map { Double(1024 << $0) }
        self.factory = factory
        queueDepth = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "gantry", metricName: "trigger_queue", unitName: "depth", helpText: "Triggers waiting for the planner"))
        hooksInFlight = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "gantry", metricName: "webhook_in", unitName: "flight", helpText: "Webhook requests being handled"))
        var catches: [String: Prometheus.Counter] = [:]
        for repository in repositories {
            catches[repository] = registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "gantry", metricName: "reconcile_catches", unitName: "total",
                                                 helpText: "Pushes the ls-remote reconcile found that no webhook had delivered"),
                labels: [("repository", repository)])
        }
        self.catches = catches
    }

    func countCatch(repository: String) { catches[repository]?.increment() }
}
