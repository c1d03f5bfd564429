/// A stage's log lines from the API's deployment detail, as one text.
func stageLog(_ deployment: [String: Any], _ index: Int) -> String {
    (stage(deployment, index)["logs"] as? [String] ?? []).joined(separator: "\n")
}

/// The round numbers an ANALYSIS stage log shows for `check`, in order (lines "round 3/4 metrics[0]: ...").
func analysisRounds(_ logs: String, _ check: String) -> [Int] {
    logs.split(separator: "\n").compactMap { line -> Int? in
        guard let range = line.range(of: "round "), line[range.upperBound...].contains(" \(check): ") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}

/// "NAME STATUS" of every stage, forward then rollback.
func stageStatuses(_ deployment: [String: Any]) -> [String] {
    stages(deployment).map { "\($0["name"] as? String ?? "") \($0["status"] as? String ?? "")" }
}
