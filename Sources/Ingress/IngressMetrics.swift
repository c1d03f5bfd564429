import Foundation
import Metrics
import Store

/// Ingress' Prometheus series: deliveries by binding and verdict, and how long ingest took (verify, read,
/// durable commit). Counters exist per configured binding only: a request to an unknown binding counts
/// under `binding=""`, so strangers cannot grow the label set.
struct IngressMetrics: Sendable {
    static let deliveries = "gantry_webhook_deliveries_total"
    static let latency = "gantry_webhook_ingest_duration_seconds"

    private let counters: [String: [Verdict: Counter]]
    private let timer: Metrics.Timer

    init(bindings: [String], factory: any MetricsFactory) {
        var counters: [String: [Verdict: Counter]] = [:]
        for binding in bindings + [""] {
            var byVerdict: [Verdict: Counter] = [:]
            for verdict in Verdict.allCases {
                byVerdict[verdict] = Counter(label: Self.deliveries, dimensions: [("binding", binding), ("verdict", verdict.rawValue)],
                                             factory: factory)
            }
            counters[binding] = byVerdict
        }
        self.counters = counters
        timer = Metrics.Timer(label: Self.latency, dimensions: [], factory: factory)
    }

    func count(binding: String, verdict: Verdict) {
        (counters[binding] ?? counters[""])?[verdict]?.increment()
    }

    func observe(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
