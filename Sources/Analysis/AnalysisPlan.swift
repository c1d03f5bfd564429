import Foundation
import FunctionKit

/// Everything one invocation needs before its first round, read and checked once: the stage's settings with their
/// templates applied, a client per metrics check, the placeholders' values. Any problem here is the stage's
/// configuration (`InvalidStageConfig`), reported before a single query runs.
struct AnalysisPlan {
    let duration: Double
    let metrics: [MetricCheck]
    let http: [HTTPCheck]
    /// By metrics check id.
    let clients: [String: PrometheusClient]
    let facts: AppFacts
    let previousStart: Date?

    init(event: FunctionEvent, environment: [String: String]) throws {
        let options: AnalysisOptions
        do { options = try JSONDecoder().decode(AnalysisOptions.self, from: Data(event.stage.with.encoded().utf8)) } catch {
            throw StageError.invalidStage("ANALYSIS: with: is not readable: \(error)")
        }
        guard let duration = try options.duration?.seconds("with.duration"), duration > 0 else {
            throw StageError.invalidStage("ANALYSIS needs with.duration (a duration such as 10m)")
        }
        guard !options.metrics.isEmpty || !options.http.isEmpty else {
            throw StageError.invalidStage("ANALYSIS needs with.metrics or with.http")
        }
        let usesTemplate = options.metrics.contains { $0.template != nil } || options.http.contains { $0.template != nil }
        let template = usesTemplate ? try AnalysisTemplate.find(in: [event.sources.target] + [event.sources.shared].compactMap { $0 }) : nil
        self.duration = duration
        metrics = try CheckResolution.metrics(options.metrics, template: template)
        http = try CheckResolution.http(options.http, template: template)
        for (id, interval) in metrics.map({ ($0.id, $0.interval) }) + http.map({ ($0.id, $0.interval) }) where interval > duration {
            throw StageError.invalidStage("\(id): interval \(DurationText.format(interval)) is longer than the duration \(DurationText.format(duration)): no round would run")
        }
        facts = AppFacts.read(event)
        let providers = try AnalysisProviders(event: event)
        var clients: [String: PrometheusClient] = [:]
        for check in metrics {
            clients[check.id] = try providers.prometheus(check.provider, timeout: check.timeout, environment: environment)
        }
        self.clients = clients
        previousStart = metrics.contains { $0.strategy == .previous }
            ? PreviousAnalyses(environment: environment).lastStart(of: event.deployment.application) : nil
        // Every placeholder once, now: a typo fails the stage as configuration, not as a round.
        for check in metrics {
            for variant in MetricRound.variants(check.strategy) { _ = try check.query(for: variant, facts: facts) }
        }
        for check in http { _ = try Placeholders.render(check.url, with: facts.values(args: check.args)) }
    }

    var intervals: [(id: String, interval: Double)] { metrics.map { ($0.id, $0.interval) } + http.map { ($0.id, $0.interval) } }

    func interval(_ id: String) -> Double { intervals.first { $0.id == id }?.interval ?? 1 }

    func failureLimit(_ id: String) -> Int {
        metrics.first { $0.id == id }?.failureLimit ?? http.first { $0.id == id }?.failureLimit ?? 0
    }

    func runRound(id: String, round: Int, schedule: RoundSchedule) -> RoundVerdict {
        if let check = metrics.first(where: { $0.id == id }), let client = clients[id] {
            return MetricRound(check: check, client: client, facts: facts, window: schedule.window(round: round, interval: check.interval),
                               stageStart: schedule.start, previousStart: previousStart).run()
        }
        guard let check = http.first(where: { $0.id == id }) else { return .failed("no check \(id)") }
        do {
            return HTTPProbe.run(check, url: try Placeholders.render(check.url, with: facts.values(args: check.args)))
        } catch {
            return .failed("\(error)")
        }
    }
}
