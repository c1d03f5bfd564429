/// An application as `GET /api/v1/applications` lists it.
public struct ApplicationView: Codable, Sendable, Equatable {
    public var name: String
    public var repository: String
    public var path: String
    public var configFile: String
    public var kind: String
    public var platform: String?
    public var runningCommit: String?
    public var lastTriggeredCommit: String?
    public var configError: String?
    /// Keys of the config that nothing reads, each with its file and line; empty when there are none.
    public var configWarnings: [String]
    public init(name: String, repository: String, path: String, configFile: String, kind: String, platform: String?,
                runningCommit: String?, lastTriggeredCommit: String?, configError: String?, configWarnings: [String] = []) {
        self.name = name; self.repository = repository; self.path = path; self.configFile = configFile; self.kind = kind
        self.platform = platform; self.runningCommit = runningCommit; self.lastTriggeredCommit = lastTriggeredCommit
        self.configError = configError; self.configWarnings = configWarnings
    }
}

public struct ApplicationList: Codable, Sendable, Equatable {
    public var applications: [ApplicationView]
    public init(applications: [ApplicationView]) { self.applications = applications }
}
