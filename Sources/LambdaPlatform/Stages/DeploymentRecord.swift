import FunctionKit

/// What a deployment must remember across its stages, kept as tags on the Lambda function itself: which
/// deployment last touched it, where its alias pointed before (the rollback target) and the version the
/// deployment published. Stages of one deployment are separate processes with their own checkpoints, so the
/// function is the one place LAMBDA_PROMOTE and ROLLBACK can read this from, even after a crash.
struct DeploymentRecord: Equatable {
    var deploymentID: String
    /// nil: the alias did not exist before the deployment.
    var original: AliasRouting?
    var version: String?

    static let deploymentKey = "gantry:deployment"
    static let aliasKey = "gantry:rollback-alias"
    static let weightsKey = "gantry:rollback-weights"
    static let versionKey = "gantry:version"

    init(deploymentID: String, original: AliasRouting?, version: String? = nil) {
        self.deploymentID = deploymentID; self.original = original; self.version = version
    }

    init?(tags: [String: String]) {
        guard let id = tags[Self.deploymentKey], !id.isEmpty, let alias = tags[Self.aliasKey] else { return nil }
        deploymentID = id
        if alias == "none" || alias.isEmpty {
            original = nil
        } else {
            // "2=0.1 3=0.05": tag values allow letters, digits, spaces and _ . : / = + - @ only.
            var weights: [String: Double] = [:]
            for pair in (tags[Self.weightsKey] ?? "").split(separator: " ") {
                let parts = pair.split(separator: "=")
                if parts.count == 2, let w = Double(parts[1]) { weights[String(parts[0])] = w }
            }
            original = AliasRouting(version: alias, weights: weights)
        }
        version = tags[Self.versionKey].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// All four tags, so a new deployment's record never inherits an older one's version.
    var tags: [String: String] {
        [Self.deploymentKey: deploymentID,
         Self.aliasKey: original?.version ?? "none",
         Self.weightsKey: (original?.weights ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: " "),
         Self.versionKey: version ?? ""]
    }
}

/// A stage's own progress, checkpointed before each step that changes something, so a re-invoked attempt
/// (after a crash or a kill) continues instead of repeating: the alias state is recorded once, the code is
/// uploaded once, and a version is published once.
struct StageProgress: Equatable {
    var recorded = false
    var original: AliasRouting?
    var codeSynced = false
    var version: String?

    init() {}

    init(checkpoint: JSONValue?) {
        guard let c = checkpoint else { return }
        recorded = c["recorded"]?.bool ?? false
        original = AliasRouting(json: c["originalAlias"])
        codeSynced = c["codeSynced"]?.bool ?? false
        version = c["version"]?.string
    }

    var json: JSONValue {
        .object(["recorded": .bool(recorded), "originalAlias": original?.json ?? .null,
                 "codeSynced": .bool(codeSynced), "version": version.map(JSONValue.string) ?? .null])
    }

    /// Commits this progress with the host before the caller goes on.
    func save() { FunctionIO.checkpoint(json) }
}

