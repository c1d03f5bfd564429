import GantryAPI

/// A stage's log lines from the API's deployment detail, as one text.
package func stageLog(_ deployment: DeploymentView, _ index: Int) -> String {
    (stage(deployment, index)?.logs ?? []).joined(separator: "\n")
}

/// The round numbers an ANALYSIS stage log shows for `check`, in order (lines "round 3/4 metrics[0]: ...").
package func analysisRounds(_ logs: String, _ check: String) -> [Int] {
    logs.split(separator: "\n").compactMap { line -> Int? in
        guard let range = line.range(of: "round "), line[range.upperBound...].contains(" \(check): ") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}

/// "NAME STATUS" of every stage, forward then rollback.
package func stageStatuses(_ deployment: DeploymentView) -> [String] {
    deployment.stages.map { "\($0.name) \($0.status)" }
}
