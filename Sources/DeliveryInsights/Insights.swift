import Foundation
import GantryAPI
import Store

/// DORA's four keys computed from the store's finished deployments (what each means: `Insights` in GantryAPI).
extension Insights {
    public static let calendar: Calendar = {
        var c = Calendar(identifier: .iso8601)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    public static func periodStart(_ date: Date, _ period: Period) -> Date {
        switch period {
        case .day: return calendar.startOfDay(for: date)
        case .week: return calendar.dateInterval(of: .weekOfYear, for: date)!.start
        case .month: return calendar.dateInterval(of: .month, for: date)!.start
        }
    }

    public static func next(_ start: Date, _ period: Period) -> Date {
        let unit: Calendar.Component = period == .day ? .day : period == .week ? .weekOfYear : .month
        return calendar.date(byAdding: unit, value: 1, to: start)!
    }

    /// The default window: the last 14 days, 12 weeks or 12 months up to `now`, whole periods.
    public static func defaultWindow(_ period: Period, now: Date) -> (Date, Date) {
        let end = next(periodStart(now, period), period)
        let unit: Calendar.Component = period == .day ? .day : period == .week ? .weekOfYear : .month
        let count = period == .day ? -14 : -12
        return (calendar.date(byAdding: unit, value: count, to: end)!, end)
    }

    /// The report over `outcomes` (the store's finished deployments in the window).
    public init(outcomes: [DeploymentOutcome], period: Period, from: Date, to: Date, applications: [String]?) {
        let inWindow = outcomes.filter { $0.completedAt >= from && $0.completedAt < to }
        var starts: [Date] = []
        var cursor = Insights.periodStart(from, period)
        while cursor < to { starts.append(cursor); cursor = Insights.next(cursor, period) }
        // Binary search over the period starts: no calendar arithmetic per deployment (10,000 of them in a year).
        func bucket(_ date: Date) -> Int? {
            guard let first = starts.first, date >= first, date < to else { return nil }
            var low = 0, high = starts.count - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if starts[mid] <= date { low = mid } else { high = mid - 1 }
            }
            return low
        }
        var successes = Array(repeating: 0, count: starts.count), failures = successes
        var leads = Array(repeating: [Double](), count: starts.count), restores = leads
        for o in inWindow {
            guard let b = bucket(o.completedAt) else { continue }
            if o.status == .success {
                successes[b] += 1
                if let t = o.commitTime { leads[b].append(max(0, o.completedAt.timeIntervalSince(t))) }
            } else {
                failures[b] += 1
            }
        }
        var failingSince: [String: Date] = [:]
        for o in inWindow.sorted(by: { $0.completedAt < $1.completedAt }) {
            if o.status == .failure {
                if failingSince[o.application] == nil { failingSince[o.application] = o.completedAt }
            } else if let since = failingSince.removeValue(forKey: o.application), let b = bucket(o.completedAt) {
                restores[b].append(o.completedAt.timeIntervalSince(since))
            }
        }
        let labels = starts.map(Insights.isoDate)
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        let totalSuccess = successes.reduce(0, +), totalFailure = failures.reduce(0, +)
        let deploymentFrequency = Metric(
            value: starts.isEmpty ? nil : Double(totalSuccess) / Double(starts.count), unit: "deployments per \(period.rawValue)",
            count: totalSuccess,
            series: starts.indices.map { Point(start: labels[$0], value: Double(successes[$0]), count: successes[$0]) })
        let changeFailureRate = Metric(
            value: totalSuccess + totalFailure == 0 ? nil : Double(totalFailure) / Double(totalSuccess + totalFailure),
            unit: "ratio", count: totalSuccess + totalFailure,
            series: starts.indices.map {
                let n = successes[$0] + failures[$0]
                return Point(start: labels[$0], value: n == 0 ? nil : Double(failures[$0]) / Double(n), count: n)
            })
        let leadTimeForChanges = Metric(value: mean(leads.flatMap { $0 }), unit: "seconds", count: leads.joined().count,
                                    series: starts.indices.map { Point(start: labels[$0], value: mean(leads[$0]), count: leads[$0].count) })
        let meanTimeToRestore = Metric(value: mean(restores.flatMap { $0 }), unit: "seconds", count: restores.joined().count,
                                   series: starts.indices.map { Point(start: labels[$0], value: mean(restores[$0]), count: restores[$0].count) })
        self.init(period: period, from: Insights.isoDate(from), to: Insights.isoDate(to), applications: applications,
                  deployments: inWindow.count, deploymentFrequency: deploymentFrequency, changeFailureRate: changeFailureRate,
                  leadTimeForChanges: leadTimeForChanges, meanTimeToRestore: meanTimeToRestore)
    }
}

extension Insights {
    public static func isoDate(_ date: Date) -> String {
        let c = Insights.calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    public static func parseDate(_ text: String?) -> Date? {
        guard let text else { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return Insights.calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }
}
