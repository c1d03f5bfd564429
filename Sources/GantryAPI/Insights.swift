/// `GET /api/v1/insights`: DORA's four keys over finished deployments, per day, week (ISO, from Monday) or month, all in UTC:
/// - deployment frequency: successful deployments (headline: the average per period);
/// - change failure rate: failed / (successful + failed) deployments;
/// - lead time for changes: from the commit's committer time to its successful deployment (mean);
/// - mean time to restore: per application, from the first failed deployment after a success (or after the
///   start of the window) to the next successful one (mean). A period holds a restore by its end time.
public struct Insights: Codable, Sendable, Equatable {
    public enum Period: String, Codable, Sendable, CaseIterable { case day, week, month }

    public struct Point: Codable, Sendable, Equatable {
        public var start: String
        public var value: Double?
        public var count: Int
        public init(start: String, value: Double?, count: Int) { self.start = start; self.value = value; self.count = count }
    }

    public struct Metric: Codable, Sendable, Equatable {
        public var value: Double?
        public var unit: String
        public var count: Int
        public var series: [Point]
        public init(value: Double?, unit: String, count: Int, series: [Point]) {
            self.value = value; self.unit = unit; self.count = count; self.series = series
        }
    }

    public var period: Period
    public var from: String
    public var to: String
    public var applications: [String]?
    public var deployments: Int
    public var deploymentFrequency: Metric
    public var changeFailureRate: Metric
    public var leadTimeForChanges: Metric
    public var meanTimeToRestore: Metric

    public init(period: Period, from: String, to: String, applications: [String]?, deployments: Int,
                deploymentFrequency: Metric, changeFailureRate: Metric, leadTimeForChanges: Metric, meanTimeToRestore: Metric) {
        self.period = period; self.from = from; self.to = to; self.applications = applications; self.deployments = deployments
        self.deploymentFrequency = deploymentFrequency; self.changeFailureRate = changeFailureRate
        self.leadTimeForChanges = leadTimeForChanges; self.meanTimeToRestore = meanTimeToRestore
    }
}
