import Foundation
import FunctionKit
import RepositoryYAML

/// The four stages the `lambda` function executes (functions/lambda/function.yaml).
public enum LambdaStages {
    public static let names = ["LAMBDA_SYNC", "LAMBDA_CANARY_ROLLOUT", "LAMBDA_PROMOTE", "ROLLBACK"]

    /// Runs the event's stage; a failure becomes a failed result typed with AWS's error code (or InvalidManifest,
    /// InvalidPlatform, ...) and marked retryable when another attempt could succeed (throttling, 5xx, lost connections).
    public static func run(_ event: FunctionEvent, environment: [String: String]) -> FunctionResult {
        do {
            switch event.stage.name {
            case "LAMBDA_SYNC": return try sync(StageContext(event: event, directory: event.sources.target, environment: environment))
            case "LAMBDA_CANARY_ROLLOUT": return try canary(StageContext(event: event, directory: event.sources.target,
                                                                         environment: environment))
            case "LAMBDA_PROMOTE": return try promote(StageContext(event: event, directory: event.sources.target,
                                                                   environment: environment))
            case "ROLLBACK": return try rollback(event, environment: environment)
            default:
                throw StageError.invalidStage("the lambda function does not execute stage \(event.stage.name) "
                                              + "(it executes \(names.joined(separator: ", ")))")
            }
        } catch {
            FunctionIO.log("error: \(error)")
            return .failure(error)
        }
    }

    /// LAMBDA_SYNC: code and configuration, publish, then the alias sends 100% to the new version.
    static func sync(_ ctx: StageContext) throws -> FunctionResult {
        let version = try FunctionSync(ctx: ctx).publishNewVersion()
        let routing = try ctx.lambda.setAlias(ctx.functionName, ctx.alias, to: AliasRouting(version: version))
        FunctionIO.log("alias \(ctx.alias) now sends \(routing)")
        return FunctionResult(status: .succeeded, message: "\(ctx.functionName) version \(version) serves 100% through alias \(ctx.alias)")
    }

    /// LAMBDA_CANARY_ROLLOUT: code and configuration, publish; the alias is not touched (0% to the new version).
    static func canary(_ ctx: StageContext) throws -> FunctionResult {
        let version = try FunctionSync(ctx: ctx).publishNewVersion()
        let current = try ctx.lambda.getAlias(ctx.functionName, ctx.alias)
        FunctionIO.log("alias \(ctx.alias) still sends \(current?.description ?? "nothing (it does not exist yet)")")
        return FunctionResult(status: .succeeded, message: "published \(ctx.functionName) version \(version) with 0% of the traffic")
    }

    /// LAMBDA_PROMOTE: `percent` of the alias's traffic to the version this deployment published; 100 makes it
    /// the primary version with no extra weights. Setting the alias is idempotent, so a re-run is harmless.
    static func promote(_ ctx: StageContext) throws -> FunctionResult {
        let percent = try promotePercent(ctx.event.stage.with)
        guard let function = try ctx.lambda.getFunction(ctx.functionName),
              let record = DeploymentRecord(tags: function.tags), record.deploymentID == ctx.deploymentID,
              let version = record.version else {
            throw StageError(type: "NothingPublished", description: "no version of \(ctx.functionName) was published by this "
                             + "deployment: LAMBDA_CANARY_ROLLOUT must run before LAMBDA_PROMOTE")
        }
        let target: AliasRouting
        if let primary = record.original?.version, primary != version, percent < 100 {
            target = AliasRouting(version: primary, weights: percent > 0 ? [version: percent / 100] : [:])
        } else {
            if record.original == nil && percent < 100 {
                FunctionIO.log("alias \(ctx.alias) had no version before this deployment: version \(version) takes all traffic")
            }
            target = AliasRouting(version: version)
        }
        let routing = try ctx.lambda.setAlias(ctx.functionName, ctx.alias, to: target)
        FunctionIO.log("alias \(ctx.alias) now sends \(routing)")
        return FunctionResult(status: .succeeded, message: "alias \(ctx.alias): \(routing)")
    }

    /// `with.percent`: 10, 10.5 or "10%".
    static func promotePercent(_ with: JSONValue) throws -> Double {
        guard let value = with["percent"], !value.isNull else {
            throw StageError.invalidStage("LAMBDA_PROMOTE needs with.percent (0 to 100)")
        }
        var text = value.string ?? ""
        if text.hasSuffix("%") { text.removeLast() }
        guard let p = Double(text), p >= 0, p <= 100 else {
            throw StageError.invalidStage("with.percent must be a number from 0 to 100, not \(value.encoded())")
        }
        return p
    }

    /// ROLLBACK: the alias goes back to the version and weights it had before this deployment. Only a deployment
    /// that recorded that state (before changing anything) has something to undo.
    static func rollback(_ event: FunctionEvent, environment: [String: String]) throws -> FunctionResult {
        let ctx: StageContext
        do {
            ctx = try StageContext(event: event, directory: event.sources.target, environment: environment)
        } catch let targetProblem as RepositoryYAML.Problem {
            // A broken manifest at the target commit: the running commit's tells which function it is.
            guard let running = event.sources.running,
                  let fallback = try? StageContext(event: event, directory: running, environment: environment) else {
                FunctionIO.log("cannot tell which function to roll back: \(targetProblem)")
                return FunctionResult(status: .succeeded, message: "nothing to roll back: \(targetProblem)")
            }
            ctx = fallback
        }
        guard let function = try ctx.lambda.getFunction(ctx.functionName) else {
            return FunctionResult(status: .succeeded, message: "nothing to roll back: function \(ctx.functionName) does not exist")
        }
        guard let record = DeploymentRecord(tags: function.tags), record.deploymentID == ctx.deploymentID else {
            return FunctionResult(status: .succeeded, message: "nothing to roll back: this deployment changed nothing of \(ctx.functionName)")
        }
        guard let original = record.original else {
            FunctionIO.log("alias \(ctx.alias) did not exist before this deployment; it is left as it is")
            return FunctionResult(status: .succeeded, message: "alias \(ctx.alias) did not exist before this deployment: left as it is")
        }
        let current = try ctx.lambda.getAlias(ctx.functionName, ctx.alias)
        FunctionIO.log("alias \(ctx.alias) sends \(current?.description ?? "nothing"); restoring \(original)")
        let routing = current == original ? original : try ctx.lambda.setAlias(ctx.functionName, ctx.alias, to: original)
        FunctionIO.log("alias \(ctx.alias) now sends \(routing)")
        return FunctionResult(status: .succeeded, message: "alias \(ctx.alias) restored: \(routing)")
    }
}
