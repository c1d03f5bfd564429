import Foundation
import Store

/// DORA's four keys over finished deployments, per day, week (ISO, from Monday) or month, all in UTC:
/// - deployment frequency: successful deployments (headline: the average per period);
/// - change failure rate: failed / (successful + failed) deployments;
/// - lead time for changes: from the commit's committer time to its successful deployment (mean);
/// - mean time to restore: per application, from the first failed deployment after a success (or after the
///   start of the window) to the next successful one (mean). A period holds a restore by its end time.
struct Insights: Codable, Sendable, Equatable {
    enum Period: String, Codable, Sendable, CaseIterable { case day, week, month }

    struct Point: Codable, Sendable, Equatable {
        var start: String
        var value: Double?
        var count: Int
    }

    struct Metric: Codable, Sendable, Equatable {
        var value: Double?
        var unit: String
        var count: Int
        var series: [Point]
    }

    var period: Period
    var from: String
    var to: String
    var applications: [String]?
    var deployments: Int
    var deploymentFrequency: Metric
    var changeFailureRate: Metric
    var leadTimeForChanges: Metric
    var meanTimeToRestore: Metric

    static let calendar: Calendar = {
        var c = Calendar(identifier: .iso8601)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    static func periodStart(_ date: Date, _ period: Period) -> Date {
        switch period {
        case .day: return calendar.startOfDay(for: date)
        case .week: return calendar.dateInterval(of: .weekOfYear, for: date)!.start
        case .month: return calendar.dateInterval(of: .month, for: date)!.start
        }
    }

    static func next(_ start: Date, _ period: Period) -> Date {
        let unit: Calendar.Component = period == .day ? .day : period == .week ? .weekOfYear : .month
        return calendar.date(byAdding: unit, value: 1, to: start)!
    }

    /// The default window: the last 14 days, 12 weeks or 12 months up to `now`, whole periods.
    static func defaultWindow(_ period: Period, now: Date) -> (Date, Date) {
        let end = next(periodStart(now, period), period)
        let unit: Calendar.Component = period == .day ? .day : period == .week ? .weekOfYear : .month
        let count = period == .day ? -14 : -12
        return (calendar.date(byAdding: unit, value: count, to: end)!, end)
    }

    init(outcomes: [DeploymentOutcome], period: Period, from: Date, to: Date, applications: [String]?) {
        self.period = period
        self.from = Show.isoDate(from); self.to = Show.isoDate(to)
        self.applications = applications
        let inWindow = outcomes.filter { $0.completedAt >= from && $0.completedAt < to }
        deployments = inWindow.count
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
        let labels = starts.map(Show.isoDate)
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        let totalSuccess = successes.reduce(0, +), totalFailure = failures.reduce(0, +)
        deploymentFrequency = Metric(
            value: starts.isEmpty ? nil : Double(totalSuccess) / Double(starts.count), unit: "deployments per \(period.rawValue)",
            count: totalSuccess,
            series: starts.indices.map { Point(start: labels[$0], value: Double(successes[$0]), count: successes[$0]) })
        changeFailureRate = Metric(
            value: totalSuccess + totalFailure == 0 ? nil : Double(totalFailure) / Double(totalSuccess + totalFailure),
            unit: "ratio", count: totalSuccess + totalFailure,
            series: starts.indices.map {
                let n = successes[$0] + failures[$0]
                return Point(start: labels[$0], value: n == 0 ? nil : Double(failures[$0]) / Double(n), count: n)
            })
        leadTimeForChanges = Metric(value: mean(leads.flatMap { $0 }), unit: "seconds", count: leads.joined().count,
                                    series: starts.indices.map { Point(start: labels[$0], value: mean(leads[$0]), count: leads[$0].count) })
        meanTimeToRestore = Metric(value: mean(restores.flatMap { $0 }), unit: "seconds", count: restores.joined().count,
                                   series: starts.indices.map { Point(start: labels[$0], value: mean(restores[$0]), count: restores[$0].count) })
    }
}

extension Show {
    static func isoDate(_ date: Date) -> String {
        let c = Insights.calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    static func parseDate(_ text: String?) -> Date? {
        guard let text else { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return Insights.calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }
}
