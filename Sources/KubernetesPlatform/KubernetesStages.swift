import Foundation
import FunctionKit

/// The stages the `kubernetes` function executes (functions/kubernetes/function.yaml), PipeCD's names and `with:`.
public enum KubernetesStages {
    public static let names = ["K8S_SYNC", "K8S_PRIMARY_ROLLOUT", "K8S_CANARY_ROLLOUT", "K8S_CANARY_CLEAN",
                               "K8S_BASELINE_ROLLOUT", "K8S_BASELINE_CLEAN", "K8S_TRAFFIC_ROUTING", "ROLLBACK"]

    /// Runs the event's stage; a failure becomes a failed result typed after kubectl's reason (Forbidden,
    /// InvalidManifest, Unreachable, ...) whose message names what was being done and kubectl's words.
    public static func run(_ event: FunctionEvent, environment: [String: String]) -> FunctionResult {
        // Planning: compares the sources only, so it needs no cluster and no platform entry.
        if event.stage.name == StrategyVerdict.stage { return StrategyDetermination.run(event, environment: environment) }
        do {
            if event.stage.name == "ROLLBACK" { return try rollback(event, environment: environment) }
            let ctx = try StageContext(event: event, directory: event.sources.target, environment: environment)
            switch event.stage.name {
            case "K8S_SYNC": return try sync(ctx)
            case "K8S_PRIMARY_ROLLOUT": return try primaryRollout(ctx)
            case "K8S_CANARY_ROLLOUT": return try variantRollout(ctx, .canary)
            case "K8S_BASELINE_ROLLOUT": return try variantRollout(ctx, .baseline)
            case "K8S_CANARY_CLEAN": return try clean(ctx, .canary)
            case "K8S_BASELINE_CLEAN": return try clean(ctx, .baseline)
            case "K8S_TRAFFIC_ROUTING": return try trafficRouting(ctx)
            default:
                throw StageError.invalidStage("the kubernetes function does not execute stage \(event.stage.name) "
                                              + "(it executes \(names.joined(separator: ", ")))")
            }
        } catch {
            FunctionIO.log("error: \(error)")
            return .failure(error)
        }
    }

    /// K8S_SYNC: every manifest as the primary; canary and baseline leftovers removed; with quickSync.prune,
    /// the app's objects the manifests no longer have are deleted.
    static func sync(_ ctx: StageContext) throws -> FunctionResult {
        let manifests = try ctx.manifests()
        let objects = ctx.builder.primary(manifests)
        try ctx.applyOnce(objects, what: "syncing")
        try ctx.deleteVariants(.canary, .baseline, manifests: manifests)
        if ctx.spec.prune {
            try ctx.prune(desired: objects, running: (try? ctx.manifests(running: true)).map(ctx.builder.primary) ?? [])
        }
        return FunctionResult(status: .succeeded, message: "applied \(describe(objects))")
    }

    /// K8S_PRIMARY_ROLLOUT: the target commit's manifests as the primary. The object traffic routing owns (the
    /// Service for podselector, the VirtualService for istio) is left to K8S_TRAFFIC_ROUTING, so a rollout does
    /// not undo the routing of an earlier stage. `with.prune` deletes what the manifests no longer have.
    static func primaryRollout(_ ctx: StageContext) throws -> FunctionResult {
        let manifests = try ctx.manifests()
        var objects = ctx.builder.primary(manifests)
        if let routing = ctx.spec.trafficRouting {
            let owned: (Manifest) -> Bool = routing.method == .istio
                ? { $0.kind == "VirtualService" }
                : { $0.kind == "Service" && $0.name == ctx.builder.service(in: manifests)?.name }
            let skipped = objects.filter(owned)
            objects.removeAll(where: owned)
            if !skipped.isEmpty {
                StageContext.log("left to K8S_TRAFFIC_ROUTING: \(skipped.map(\.displayName).joined(separator: ", "))")
            }
        }
        try ctx.applyOnce(objects, what: "rolling out the primary")
        if ctx.event.stage.with["prune"]?.bool == true {
            try ctx.prune(desired: ctx.builder.primary(manifests), running: (try? ctx.manifests(running: true)).map(ctx.builder.primary) ?? [])
        }
        return FunctionResult(status: .succeeded, message: "primary: applied \(describe(objects))")
    }

    /// K8S_CANARY_ROLLOUT (target commit) and K8S_BASELINE_ROLLOUT (running commit): copies of the workloads
    /// named `<name>-<suffix>` with `replicas`, their ConfigMaps and Secrets, `patches`, and with `createService`
    /// a Service of their own.
    static func variantRollout(_ ctx: StageContext, _ variant: Variant) throws -> FunctionResult {
        let with = ctx.event.stage.with
        let base = try Patches.apply(with["patches"], to: try ctx.manifests(running: variant == .baseline))
        let suffix = try ctx.event.withString("suffix") ?? variant.rawValue
        guard !suffix.isEmpty, suffix.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw StageError.invalidStage("with.suffix \(suffix) must be lowercase letters, digits and -")
        }
        var builder = ctx.builder
        if variant == .baseline, let running = ctx.event.deployment.runningCommit {
            builder = VariantBuilder(spec: ctx.spec, application: ctx.event.deployment.application, commit: running)
        }
        let objects = try builder.variant(variant, of: base, suffix: suffix, replicas: with["replicas"],
                                          createService: with["createService"]?.bool ?? false)
        try ctx.applyOnce(objects, what: "rolling out the \(variant.rawValue)")
        return FunctionResult(status: .succeeded, message: "\(variant.rawValue): applied \(describe(objects))")
    }

    /// K8S_CANARY_CLEAN / K8S_BASELINE_CLEAN: every object of the variant goes, found by its labels.
    static func clean(_ ctx: StageContext, _ variant: Variant) throws -> FunctionResult {
        let manifests = try ctx.manifests()
        try ctx.deleteVariants(variant, manifests: manifests)
        return FunctionResult(status: .succeeded, message: "deleted the \(variant.rawValue) objects of \(ctx.builder.applicationLabel)")
    }

    /// K8S_TRAFFIC_ROUTING: `all: canary` or `primary/canary/baseline` percentages.
    static func trafficRouting(_ ctx: StageContext) throws -> FunctionResult {
        let weights = try TrafficRouter.weights(ctx.event.stage.with)
        let objects = try TrafficRouter(builder: ctx.builder).routed(weights, manifests: try ctx.manifests())
        try ctx.applyOnce(objects, what: "routing traffic")
        FunctionIO.output(["primary": String(weights.primary), "canary": String(weights.canary), "baseline": String(weights.baseline)])
        return FunctionResult(status: .succeeded, message: "traffic: \(weights) (\(objects.map(\.displayName).joined(separator: ", ")))")
    }

    /// ROLLBACK: canary and baseline objects deleted (found by label, so what an interrupted stage created goes
    /// too), then the running commit's manifests applied again as the primary, routing objects included.
    static func rollback(_ event: FunctionEvent, environment: [String: String]) throws -> FunctionResult {
        let hasRunning = event.deployment.runningCommit != nil && event.sources.running != nil
        let configDir = hasRunning && (try? KubernetesAppSpec.read(directory: event.sources.running!, application: event.deployment.application)) != nil
            ? event.sources.running! : event.sources.target
        let ctx = try StageContext(event: event, directory: configDir, environment: environment)
        let target = (try? ctx.manifests()) ?? []
        let running = hasRunning ? try ctx.manifests(running: true) : []
        try ctx.deleteVariants(.canary, .baseline, manifests: running + target)
        guard hasRunning, let commit = event.deployment.runningCommit else {
            return FunctionResult(status: .succeeded, message: "no running commit to restore (first deployment); canary and "
                                  + "baseline objects deleted")
        }
        let builder = VariantBuilder(spec: ctx.spec, application: event.deployment.application, commit: commit)
        let objects = builder.primary(running)
        try ctx.applyOnce(objects, what: "restoring commit \(commit.prefix(7))")
        return FunctionResult(status: .succeeded, message: "restored commit \(commit.prefix(7)): \(describe(objects))")
    }

    static func describe(_ objects: [Manifest]) -> String {
        let shown = objects.prefix(8).map(\.displayName).joined(separator: ", ")
        return objects.count > 8 ? "\(shown) and \(objects.count - 8) more" : shown
    }
}
