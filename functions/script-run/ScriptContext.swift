import FunctionKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// PipeCD's SR_* variables for a script: who and what triggered the deployment, in the names and formats PipeCD's
/// SCRIPT_RUN uses, so scripts written for piped run unchanged. `SR_CONTEXT_RAW` is all of it as one JSON object
/// (PipeCD's keys; empty values left out), and each label is `SR_LABELS_<KEY IN CAPITALS>`.
struct ScriptContext: Encodable {
    var deploymentID: String
    /// Gantry names applications uniquely: the name is the id.
    var applicationID: String
    var applicationName: String
    /// Unix seconds.
    var triggeredAt: Int64
    var triggeredCommitHash: String
    /// Who asked for a manual sync; empty for a push.
    var triggeredCommander: String
    var repositoryURL: String
    var summary: String
    var labels: [String: String]
    var isRollback: Bool

    init(_ d: FunctionEvent.DeploymentInfo, rollback: Bool) {
        deploymentID = d.id; applicationID = d.application; applicationName = d.application
        triggeredAt = d.triggeredAt.flatMap(RFC3339.parse).map { Int64($0.timeIntervalSince1970) } ?? 0
        triggeredCommitHash = d.commit
        triggeredCommander = d.trigger.kind == "manual" ? d.trigger.author : ""
        repositoryURL = d.repositoryURL ?? ""; summary = d.summary ?? ""; labels = d.labels ?? [:]
        isRollback = rollback
    }

    /// In a fixed order: the variables, then the labels sorted by key.
    func variables() -> [(String, String)] {
        var out = [
            ("SR_DEPLOYMENT_ID", deploymentID), ("SR_APPLICATION_ID", applicationID), ("SR_APPLICATION_NAME", applicationName),
            ("SR_TRIGGERED_AT", String(triggeredAt)), ("SR_TRIGGERED_COMMIT_HASH", triggeredCommitHash),
            ("SR_TRIGGERED_COMMANDER", triggeredCommander), ("SR_REPOSITORY_URL", repositoryURL), ("SR_SUMMARY", summary),
            ("SR_IS_ROLLBACK", isRollback ? "true" : "false"), ("SR_CONTEXT_RAW", raw()),
        ]
        for key in labels.keys.sorted() { out.append(("SR_LABELS_" + key.uppercased(), labels[key]!)) }
        return out
    }

    private enum CodingKeys: String, CodingKey {
        case deploymentID, applicationID, applicationName, triggeredAt, triggeredCommitHash, triggeredCommander,
             repositoryURL, summary, labels, isRollback
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func text(_ value: String, _ key: CodingKeys) throws { if !value.isEmpty { try c.encode(value, forKey: key) } }
        try text(deploymentID, .deploymentID); try text(applicationID, .applicationID)
        try text(applicationName, .applicationName)
        if triggeredAt != 0 { try c.encode(triggeredAt, forKey: .triggeredAt) }
        try text(triggeredCommitHash, .triggeredCommitHash); try text(triggeredCommander, .triggeredCommander)
        try text(repositoryURL, .repositoryURL); try text(summary, .summary)
        if !labels.isEmpty { try c.encode(labels, forKey: .labels) }
        if isRollback { try c.encode(true, forKey: .isRollback) }
    }

    private func raw() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
