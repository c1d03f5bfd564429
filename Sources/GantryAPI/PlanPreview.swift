/// `POST /api/v1/plan-preview`: what `head` would deploy if merged into `base` (default: the configured branch).
public struct PlanPreviewRequest: Codable, Sendable, Equatable {
    public var repository: String
    public var head: String
    public var base: String?
    public init(repository: String, head: String, base: String? = nil) {
        self.repository = repository; self.head = head; self.base = base
    }
}

/// The answer: each application the change touches, quick sync or pipeline and why, or why it cannot be planned.
public struct PlanPreviewView: Codable, Sendable, Equatable {
    public struct App: Codable, Sendable, Equatable {
        public var name: String
        public var configFile: String
        public var kind: String
        /// "quick-sync" or "pipeline"; nil when the app cannot be planned (see `configError`).
        public var strategy: String?
        public var summary: String
        public var stages: [String]
        public var configError: String?
        public var configWarnings: [String]
        public init(name: String, configFile: String, kind: String, strategy: String?, summary: String, stages: [String],
                    configError: String?, configWarnings: [String]) {
            self.name = name; self.configFile = configFile; self.kind = kind; self.strategy = strategy
            self.summary = summary; self.stages = stages; self.configError = configError; self.configWarnings = configWarnings
        }
    }
    public var repository: String
    public var base: String
    public var head: String
    public var mergeBase: String
    public var applications: [App]
    public var problems: [String]
    public init(repository: String, base: String, head: String, mergeBase: String, applications: [App], problems: [String]) {
        self.repository = repository; self.base = base; self.head = head; self.mergeBase = mergeBase
        self.applications = applications; self.problems = problems
    }

    /// The preview as Markdown, the same for a terminal and a pull-request comment.
    public var markdown: String {
        var lines = ["Gantry plan preview of \(head.prefix(7)) against \(base.prefix(7)) (repository \(repository))", ""]
        if applications.isEmpty { lines.append("No application is touched by this change.") }
        for app in applications {
            if let error = app.configError {
                lines.append("- **\(app.name)** (\(app.kind)): cannot be deployed: \(error)")
            } else {
                let how = app.strategy == "quick-sync" ? "quick sync" : "pipeline"
                lines.append("- **\(app.name)** (\(app.kind)): \(how): \(app.summary)"
                             + (app.stages.isEmpty ? "" : " [\(app.stages.joined(separator: " → "))]"))
            }
            for warning in app.configWarnings { lines.append("  - warning: \(warning)") }
        }
        for problem in problems { lines.append("- problem: \(problem)") }
        return lines.joined(separator: "\n")
    }
}
