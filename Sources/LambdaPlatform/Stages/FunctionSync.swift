import Digest
import Foundation
import FunctionKit

/// Brings the function's $LATEST to what the manifest says, after recording the rollback target; then
/// publishes it once. Shared by LAMBDA_SYNC and LAMBDA_CANARY_ROLLOUT.
struct FunctionSync {
    let ctx: StageContext
    var lambda: LambdaAPI { ctx.lambda }
    var name: String { ctx.functionName }

    /// The code to upload and the CodeSha256 AWS will report for it (nil when it cannot be known here).
    struct Package { var code: JSONValue; var sha256: String? }

    /// What LAMBDA_SYNC and LAMBDA_CANARY_ROLLOUT share: record the rollback target, bring $LATEST to the
    /// manifest, publish it once, and note the version on the function for the later stages. Returns the version.
    func publishNewVersion() throws -> String {
        var progress = StageProgress(checkpoint: ctx.event.checkpoint)
        // Any earlier attempt may have published: its last checkpoint can be lost when the server dies between the
        // function writing it and the host committing it, so a later attempt always looks for its marker.
        let mayHavePublished = progress.codeSynced || ctx.event.invocation.attempt > 1
            || (ctx.event.invocation.recovery ?? 0) > 0
        let function = try recordAndSync(&progress)
        let version = try publishOnce(&progress, function: function, mayHavePublished: mayHavePublished)
        try recordVersion(version, function: function, original: progress.original)
        FunctionIO.output(["function": name, "alias": ctx.alias, "version": version])
        return version
    }

    /// Records where the alias points (checkpoint first, then the function's tags), then creates the function or
    /// updates its code and configuration where they differ. Returns the function as it is afterwards.
    func recordAndSync(_ progress: inout StageProgress) throws -> FunctionState {
        let function = try lambda.getFunction(name)
        if !progress.recorded {
            progress.original = function == nil ? nil : try lambda.getAlias(name, ctx.alias)
            progress.recorded = true
            progress.save()
            StageContext.log("alias \(ctx.alias) before this deployment: \(progress.original?.description ?? "does not exist")")
        }
        let record = DeploymentRecord(deploymentID: ctx.deploymentID, original: progress.original)
        guard var current = function else {
            let package = try self.package()
            StageContext.log("creating function \(name)")
            _ = try lambda.createFunction(createBody(package, tags: ctx.manifest.tags.merging(record.tags) { _, r in r }))
            try lambda.waitUntilUpdated(name, deadline: ctx.deadline)
            progress.codeSynced = true
            progress.save()
            return try fetch()
        }
        if DeploymentRecord(tags: current.tags)?.deploymentID != ctx.deploymentID {
            try lambda.tag(current.arn, record.tags)
        }
        if !progress.codeSynced {
            try updateCode(current)
            try updateConfiguration(current)
            let changedTags = ctx.manifest.tags.filter { current.tags[$0.key] != $0.value }
            if !changedTags.isEmpty { try lambda.tag(current.arn, changedTags) }
            progress.codeSynced = true
            progress.save()
            current = try fetch()
        }
        return current
    }

    /// Publishes $LATEST once per stage: the checkpoint says whether this stage already did; after an attempt
    /// was cut off mid-publish, the version carrying this stage's marker is taken instead of publishing again.
    func publishOnce(_ progress: inout StageProgress, function: FunctionState, mayHavePublished: Bool) throws -> String {
        if let version = progress.version { return version }
        if mayHavePublished,
           let found = try lambda.listVersions(name).last(where: { $0.description.contains(ctx.publishMarker) }) {
            StageContext.log("version \(found.version) was already published by an earlier attempt of this stage")
            progress.version = found.version
            progress.save()
            return found.version
        }
        let description = "Gantry deployment \(ctx.deploymentID) of \(ctx.event.deployment.commit.prefix(7)) \(ctx.publishMarker)"
        let version = try lambda.publishVersion(name, description: description, codeSha256: function.codeSha256)
        progress.version = version
        progress.save()
        StageContext.log("published version \(version) of \(name)")
        return version
    }

    /// Adds the published version to the function's deployment record, for LAMBDA_PROMOTE.
    func recordVersion(_ version: String, function: FunctionState, original: AliasRouting?) throws {
        let record = DeploymentRecord(deploymentID: ctx.deploymentID, original: original, version: version)
        if DeploymentRecord(tags: function.tags) != record { try lambda.tag(function.arn, record.tags) }
    }

    private func fetch() throws -> FunctionState {
        guard let f = try lambda.getFunction(name) else {
            throw AWSError(operation: "GetFunction", status: 404, code: "ResourceNotFoundException",
                           message: "function \(name) disappeared while it was being deployed")
        }
        return f
    }

    func package() throws -> Package {
        switch ctx.manifest.code {
        case .folder(let folder):
            let zip = try ZipArchive.zip(folder: ctx.appDirectory + "/" + folder)
            StageContext.log("zipped \(folder): \(zip.count) bytes")
            return Package(code: .object(["ZipFile": .string(Data(zip).base64EncodedString())]),
                           sha256: Data(Digest.sha256(zip)).base64EncodedString())
        case .image(let uri):
            return Package(code: .object(["ImageUri": .string(uri)]), sha256: nil)
        case .s3(let bucket, let key, let version):
            var code: [String: JSONValue] = ["S3Bucket": .string(bucket), "S3Key": .string(key)]
            if let version { code["S3ObjectVersion"] = .string(version) }
            return Package(code: .object(code), sha256: nil)
        }
    }

    private func updateCode(_ current: FunctionState) throws {
        let m = ctx.manifest
        let currentArchitectures = current.configuration["Architectures"]?.array?.compactMap(\.string) ?? []
        let architecturesDiffer = !m.architectures.isEmpty && m.architectures != currentArchitectures
        let package = try self.package()
        let unchanged: Bool
        switch m.code {
        case .folder: unchanged = package.sha256 == current.codeSha256
        case .image(let uri): unchanged = current.imageURI == uri
        case .s3: unchanged = false   // the object's content is not known here; AWS compares it
        }
        if unchanged && !architecturesDiffer {
            StageContext.log("code of \(name) is unchanged")
            return
        }
        var body = package.code.object ?? [:]
        if !m.architectures.isEmpty { body["Architectures"] = .array(m.architectures.map(JSONValue.string)) }
        StageContext.log("updating the code of \(name)")
        try lambda.updateCode(name, .object(body))
        try lambda.waitUntilUpdated(name, deadline: ctx.deadline)
    }

    private func updateConfiguration(_ current: FunctionState) throws {
        let desired = configurationBody()
        let have = current.configuration
        let differs = desired.contains { key, want in
            switch key {
            case "Environment":
                let current = have["Environment"]?["Variables"]?.object ?? [:]
                return JSONValue.object(current) != want["Variables"]
            case "VpcConfig":
                func set(_ v: JSONValue?, _ k: String) -> Set<String> { Set(v?[k]?.array?.compactMap(\.string) ?? []) }
                return set(have["VpcConfig"], "SubnetIds") != set(want, "SubnetIds")
                    || set(have["VpcConfig"], "SecurityGroupIds") != set(want, "SecurityGroupIds")
            default:
                return have[key] != want
            }
        }
        guard differs else { StageContext.log("configuration of \(name) is unchanged"); return }
        StageContext.log("updating the configuration of \(name)")
        try lambda.updateConfiguration(name, .object(desired))
        try lambda.waitUntilUpdated(name, deadline: ctx.deadline)
    }

    /// The configuration fields the manifest sets (absent ones are left as AWS has them).
    func configurationBody() -> [String: JSONValue] {
        let m = ctx.manifest
        var body: [String: JSONValue] = ["Role": .string(m.role),
                                         "Environment": .object(["Variables": .object(m.environment.mapValues(JSONValue.string))])]
        if let h = m.handler { body["Handler"] = .string(h) }
        if let r = m.runtime { body["Runtime"] = .string(r) }
        if let v = m.memory { body["MemorySize"] = .number(Double(v)) }
        if let v = m.timeout { body["Timeout"] = .number(Double(v)) }
        if let v = m.ephemeralStorage { body["EphemeralStorage"] = .object(["Size": .number(Double(v))]) }
        if m.subnetIDs != nil || m.securityGroupIDs != nil {
            body["VpcConfig"] = .object(["SubnetIds": .array((m.subnetIDs ?? []).map(JSONValue.string)),
                                         "SecurityGroupIds": .array((m.securityGroupIDs ?? []).map(JSONValue.string))])
        }
        return body
    }

    private func createBody(_ package: Package, tags: [String: String]) -> JSONValue {
        var body = configurationBody()
        body["FunctionName"] = .string(name)
        body["Code"] = package.code
        body["Tags"] = .object(tags.mapValues(JSONValue.string))
        body["Publish"] = .bool(false)
        if case .image = ctx.manifest.code { body["PackageType"] = .string("Image") } else { body["PackageType"] = .string("Zip") }
        if !ctx.manifest.architectures.isEmpty { body["Architectures"] = .array(ctx.manifest.architectures.map(JSONValue.string)) }
        return .object(body)
    }
}
