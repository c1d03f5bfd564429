import Foundation
import FunctionKit

/// One round of a metrics check: the query (rendered per variant for the comparing strategies) over the round's
/// window, and the strategy's verdict, worded with the queries and values for the stage log.
public struct MetricRound {
    public let check: MetricCheck
    public let client: PrometheusClient
    public let facts: AppFacts
    public let window: QueryWindow
    /// The start of this stage, and of the last successful analysis of the app (PREVIOUS).
    public let stageStart: Date
    public let previousStart: Date?

    public init(check: MetricCheck, client: PrometheusClient, facts: AppFacts, window: QueryWindow, stageStart: Date,
                previousStart: Date?) {
        self.check = check; self.client = client; self.facts = facts; self.window = window
        self.stageStart = stageStart; self.previousStart = previousStart
    }

    /// The variants a strategy queries: the experiment first, then its control ("" stands for no variant).
    public static func variants(_ strategy: Strategy) -> [String] {
        switch strategy {
        case .threshold, .previous: return [""]
        case .canaryBaseline: return ["canary", "baseline"]
        case .canaryPrimary: return ["canary", "primary"]
        }
    }


    public func run() -> RoundVerdict {
        do {
            switch check.strategy {
            case .threshold: return try threshold()
            case .previous: return try previous()
            case .canaryBaseline, .canaryPrimary:
                let names = Self.variants(check.strategy)
                let experiment = try sample(names[0], window), control = try sample(names[1], window)
                return compare(experiment, names[0], against: control, names[1])
            }
        } catch {
            return .failed("\(error)")
        }
    }

    private struct Sample { let query: String; let values: [Double]; let window: QueryWindow }

    private func sample(_ variant: String, _ window: QueryWindow) throws -> Sample {
        let q = try check.query(for: variant, facts: facts)
        return Sample(query: q, values: try client.values(q, in: window), window: window)
    }

    private func threshold() throws -> RoundVerdict {
        let s = try sample("", window)
        guard !s.values.isEmpty else { return noData(s) }
        let range = "[\(check.expected?.min.map(Self.number) ?? "-inf"), \(check.expected?.max.map(Self.number) ?? "+inf")]"
        if let outlier = s.values.first(where: { !inRange($0) }) {
            return .failed("\(describe(s)) → \(Self.number(outlier)) is outside the expected range \(range)")
        }
        return .passed("\(describe(s)) → within the expected range \(range)")
    }

    private func previous() throws -> RoundVerdict {
        guard let previousStart else {
            return .finished("no earlier successful analysis of \(facts.name) to compare with (a first deployment): PREVIOUS passes")
        }
        let current = try sample("", window)
        let offset = window.to.timeIntervalSince(stageStart)
        let then = previousStart.addingTimeInterval(offset)
        let earlier = try sample("", QueryWindow(from: then.addingTimeInterval(-check.interval), to: then))
        return compare(current, "this deployment", against: earlier, "the previous one")
    }

    private func compare(_ experiment: Sample, _ name: String, against control: Sample, _ controlName: String) -> RoundVerdict {
        let both = "\(name) \(describe(experiment)); \(controlName) \(describe(control))"
        if experiment.values.isEmpty && control.values.isEmpty { return noData(experiment) }
        if experiment.values.isEmpty || control.values.isEmpty {
            return .failed("\(both) → no data points for \(experiment.values.isEmpty ? name : controlName)")
        }
        let (ok, p) = MannWhitney.acceptable(experiment: experiment.values, control: control.values, deviation: check.deviation)
        let test = p.map { "Mann-Whitney p=\(Self.number($0))" } ?? "identical samples"
        return ok ? .passed("\(both) → no significant deviation (\(check.deviation.rawValue), \(test))")
                  : .failed("\(both) → significant deviation (\(check.deviation.rawValue), \(test) ≤ \(MannWhitney.alpha))")
    }

    private func noData(_ s: Sample) -> RoundVerdict {
        check.skipOnNoData ? .skipped("\(describe(s)) → no data (skipOnNoData)") : .failed("\(describe(s)) → no data")
    }

    private func inRange(_ value: Double) -> Bool {
        guard !value.isNaN else { return false }
        if let min = check.expected?.min, value < min { return false }
        if let max = check.expected?.max, value > max { return false }
        return true
    }

    /// `query "…" over +1s..+2s: 0.01, 0.02` (at most 10 values shown).
    private func describe(_ s: Sample) -> String {
        let from = s.window.from.timeIntervalSince(stageStart), to = s.window.to.timeIntervalSince(stageStart)
        let shown = s.values.prefix(10).map(Self.number).joined(separator: ", ") + (s.values.count > 10 ? ", …" : "")
        return "query \"\(s.query)\" over \(Self.offset(from))..\(Self.offset(to)): \(s.values.isEmpty ? "no values" : shown)"
    }

    static func number(_ value: Double) -> String { String(format: "%g", value) }

    static func offset(_ seconds: Double) -> String {
        (seconds < 0 ? "-" : "+") + DurationText.format(abs(seconds))
    }
}

extension MetricCheck {
    /// The query for `variant`, placeholders rendered; the plan renders every one before the first round, so a round
    /// never fails on a placeholder.
    public func query(for variant: String, facts: AppFacts) throws -> String {
        try Placeholders.render(query, with: facts.values(args: args, variant: variant, variantArgs: variantArgs[variant] ?? [:]))
    }
}
