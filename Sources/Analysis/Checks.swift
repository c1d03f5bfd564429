import FunctionKit

/// How a metrics check judges its values (PipeCD's strategies).
public enum Strategy: String, Sendable {
    /// Every value within `expected`.
    case threshold = "THRESHOLD"
    /// This deployment against the last successful one, at the same time into the stage.
    case previous = "PREVIOUS"
    /// The canary variant against the baseline variant.
    case canaryBaseline = "CANARY_BASELINE"
    /// The canary variant against the primary variant.
    case canaryPrimary = "CANARY_PRIMARY"
}

/// Which difference fails a comparing strategy: the experiment significantly higher, lower, or either.
public enum Deviation: String, Sendable {
    case high = "HIGH", low = "LOW", either = "EITHER"
}

/// A metrics check ready to run: settings resolved (template applied, defaults filled in) and checked.
public struct MetricCheck: Sendable {
    /// `metrics[0]`: its key in the checkpoint and its name in the log.
    public var id: String
    public var provider: String
    /// The query as written; placeholders are rendered per round.
    public var query: String
    public var interval: Double
    public var expected: MetricsSettings.Expected?
    public var failureLimit: Int
    public var skipOnNoData: Bool
    public var strategy: Strategy
    public var deviation: Deviation
    public var timeout: Double
    /// `{{ .Args.x }}`: the template reference's appArgs.
    public var args: [String: String]
    /// `{{ .VariantCustomArgs.x }}` per variant name (canary, baseline, primary).
    public var variantArgs: [String: [String: String]]
}

/// An HTTP check ready to run.
public struct HTTPCheck: Sendable {
    public var id: String
    public var url: String
    public var method: String
    public var headers: [HTTPSettings.Header]
    public var expectedCode: Int
    public var expectedResponse: String?
    public var interval: Double
    public var failureLimit: Int
    public var timeout: Double
    public var args: [String: String]
}

/// Turns the stage's entries into checks: a template reference takes the template's settings (as PipeCD does),
/// every required setting must be there, and every problem is an `InvalidStageConfig` naming the entry.
public enum CheckResolution {
    static let defaultTimeout = 30.0

    public static func metrics(_ entries: [AnalysisOptions.Entry<MetricsSettings>], template: AnalysisTemplate?) throws -> [MetricCheck] {
        try entries.enumerated().map { index, entry in
            let id = "metrics[\(index)]"
            let s = try settings(entry, id: id, from: template?.metrics, template: template)
            guard let provider = s.provider, !provider.isEmpty else { throw StageError.invalidStage("\(id): provider is required") }
            guard let query = s.query, !query.isEmpty else { throw StageError.invalidStage("\(id): query is required") }
            let strategyText = s.strategy ?? Strategy.threshold.rawValue
            guard let strategy = Strategy(rawValue: strategyText) else {
                throw StageError.invalidStage("\(id): strategy \(strategyText) is not THRESHOLD, PREVIOUS, CANARY_BASELINE or CANARY_PRIMARY")
            }
            let deviationText = s.deviation ?? Deviation.either.rawValue
            guard let deviation = Deviation(rawValue: deviationText) else {
                throw StageError.invalidStage("\(id): deviation \(deviationText) is not HIGH, LOW or EITHER")
            }
            if strategy == .threshold && s.expected?.min == nil && s.expected?.max == nil {
                throw StageError.invalidStage("\(id): the THRESHOLD strategy needs expected.min or expected.max")
            }
            return MetricCheck(
                id: id, provider: provider, query: query, interval: try interval(s.interval, id: id),
                expected: s.expected, failureLimit: try failureLimit(s.failureLimit, id: id), skipOnNoData: s.skipOnNoData ?? false,
                strategy: strategy, deviation: deviation,
                timeout: try s.timeout?.seconds("\(id).timeout") ?? defaultTimeout, args: entry.template?.appArgs ?? [:],
                variantArgs: ["canary": s.canaryArgs?.values ?? [:], "baseline": s.baselineArgs?.values ?? [:],
                              "primary": s.primaryArgs?.values ?? [:]])
        }
    }

    public static func http(_ entries: [AnalysisOptions.Entry<HTTPSettings>], template: AnalysisTemplate?) throws -> [HTTPCheck] {
        try entries.enumerated().map { index, entry in
            let id = "http[\(index)]"
            let s = try settings(entry, id: id, from: template?.http, template: template)
            guard let url = s.url, !url.isEmpty else { throw StageError.invalidStage("\(id): url is required") }
            return HTTPCheck(id: id, url: url, method: (s.method ?? "GET").uppercased(), headers: s.headers ?? [],
                             expectedCode: s.expectedCode ?? 200, expectedResponse: s.expectedResponse,
                             interval: try interval(s.interval, id: id), failureLimit: try failureLimit(s.failureLimit, id: id),
                             timeout: try s.timeout?.seconds("\(id).timeout") ?? defaultTimeout,
                             args: entry.template?.appArgs ?? [:])
        }
    }

    private static func settings<S>(_ entry: AnalysisOptions.Entry<S>, id: String, from named: [String: S]?,
                                    template: AnalysisTemplate?) throws -> S {
        guard let reference = entry.template else { return entry.settings }
        guard let template else {
            throw StageError.invalidStage("\(id): template \(reference.name) is named, but there is no AnalysisTemplate in .gantry/ or .pipe/")
        }
        guard let found = named?[reference.name] else {
            throw StageError.invalidStage("\(id): template \(reference.name) is not in \(template.file)")
        }
        return found
    }

    private static func interval(_ setting: DurationSetting?, id: String) throws -> Double {
        guard let setting else { throw StageError.invalidStage("\(id): interval is required") }
        let seconds = try setting.seconds("\(id).interval")
        guard seconds > 0 else { throw StageError.invalidStage("\(id): interval must be more than 0") }
        return seconds
    }

    private static func failureLimit(_ value: Int?, id: String) throws -> Int {
        guard let value else { return 0 }
        guard value >= 0 else { throw StageError.invalidStage("\(id): failureLimit must be 0 or more") }
        return value
    }
}
