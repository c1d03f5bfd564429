import FunctionKit

/// K8S_TRAFFIC_ROUTING: how much of the app's traffic each variant gets.
/// - podselector: the app's Service selects one variant's pods (all or nothing, as in PipeCD).
/// - istio: the VirtualService's routes to the host are weighted over the subsets primary/canary/baseline, and
///   the host's DestinationRule gets those subsets (selecting by the variant label) when it lacks them.
struct TrafficRouter {
    let builder: VariantBuilder
    var spec: KubernetesAppSpec { builder.spec }

    struct Weights: Equatable, CustomStringConvertible {
        var primary = 0, canary = 0, baseline = 0
        var description: String { "primary \(primary)%, canary \(canary)%, baseline \(baseline)%" }
        func of(_ v: Variant) -> Int { v == .primary ? primary : v == .canary ? canary : baseline }
    }

    /// `with.all: canary`, or `with.primary/canary/baseline` percentages adding up to 100.
    static func weights(_ with: JSONValue) throws -> Weights {
        if let all = with["all"]?.string {
            guard let v = Variant(rawValue: all) else {
                throw StageError.invalidStage("with.all must be primary, canary or baseline, not \(all)")
            }
            var w = Weights(); if v == .primary { w.primary = 100 } else if v == .canary { w.canary = 100 } else { w.baseline = 100 }
            return w
        }
        func pct(_ key: String) throws -> Int {
            guard let v = with[key], !v.isNull else { return 0 }
            guard let n = v.number, n == n.rounded(), (0...100).contains(n) else {
                throw StageError.invalidStage("with.\(key) must be a percentage from 0 to 100, not \(v.encoded())")
            }
            return Int(n)
        }
        let w = Weights(primary: try pct("primary"), canary: try pct("canary"), baseline: try pct("baseline"))
        guard w.primary + w.canary + w.baseline == 100 else {
            throw StageError.invalidStage("with.primary, canary and baseline must add up to 100 (they add up to "
                                          + "\(w.primary + w.canary + w.baseline)); or use with.all")
        }
        return w
    }

    /// The objects to apply for `weights`, built from the target commit's manifests.
    func routed(_ weights: Weights, manifests: [Manifest]) throws -> [Manifest] {
        guard let routing = spec.trafficRouting else {
            throw StageError.invalidStage("K8S_TRAFFIC_ROUTING needs spec.trafficRouting in the app config (method podselector or istio)")
        }
        switch routing.method {
        case .podselector: return [try podSelector(weights, manifests)]
        case .istio: return try istio(weights, routing, manifests)
        }
    }

    private func podSelector(_ w: Weights, _ manifests: [Manifest]) throws -> Manifest {
        guard let only = Variant.allCases.first(where: { w.of($0) == 100 }) else {
            throw StageError.invalidStage("podselector routing sends all traffic to one variant: use with.all "
                                          + "(\(w) cannot be done by switching a Service's selector)")
        }
        guard let service = builder.service(in: manifests) else {
            throw StageError.invalidManifest("podselector routing needs the app's Service in the manifests"
                                             + (spec.serviceName.map { " (spec.service.name \($0))" } ?? ""))
        }
        var m = builder.primary([service])[0]
        var selector = m["spec.selector"]?.object ?? [:]
        selector[spec.variantLabel.key] = .string(spec.variantLabel.value(only))
        m["spec.selector"] = .object(selector)
        return m
    }

    private func istio(_ w: Weights, _ routing: KubernetesAppSpec.TrafficRouting, _ manifests: [Manifest]) throws -> [Manifest] {
        guard var vs = manifests.first(where: { $0.kind == "VirtualService" && (routing.virtualService == nil || $0.name == routing.virtualService) }) else {
            throw StageError.invalidManifest("istio routing needs a VirtualService in the manifests"
                                             + (routing.virtualService.map { " named \($0)" } ?? ""))
        }
        guard let host = routing.istioHost ?? builder.service(in: manifests)?.name else {
            throw StageError.invalidStage("istio routing needs spec.trafficRouting.istio.host (or a Service in the manifests)")
        }
        var routes = vs["spec.http"]?.array ?? []
        var edited = 0
        for i in routes.indices {
            if !routing.editableRoutes.isEmpty && !routing.editableRoutes.contains(routes[i]["name"]?.string ?? "") { continue }
            let destinations = routes[i]["route"]?.array ?? []
            guard let template = destinations.first(where: { Self.hostMatches($0["destination"]?["host"]?.string, host) }) else { continue }
            var weighted: [JSONValue] = []
            for v in Variant.allCases where w.of(v) > 0 || v == .primary {
                var d = template.object ?? [:]
                var dest = d["destination"]?.object ?? [:]
                dest["subset"] = .string(spec.variantLabel.value(v))
                d["destination"] = .object(dest)
                d["weight"] = .number(Double(w.of(v)))
                weighted.append(.object(d))
            }
            // Destinations to other hosts keep their place after the host's.
            weighted += destinations.filter { !Self.hostMatches($0["destination"]?["host"]?.string, host) }
            JSONPath.set(&routes[i], "route", .array(weighted))
            edited += 1
        }
        guard edited > 0 else {
            throw StageError.invalidManifest("VirtualService \(vs.name) has no http route to host \(host) to weight")
        }
        vs["spec.http"] = .array(routes)
        var out = [builder.primary([vs])[0]]
        var rule: Manifest
        if let found = manifests.first(where: { $0.kind == "DestinationRule" && Self.hostMatches($0["spec.host"]?.string, host) }) {
            rule = found
        } else {
            rule = Manifest(object: ["apiVersion": .string("networking.istio.io/v1beta1"), "kind": .string("DestinationRule"),
                                     "metadata": .object(["name": .string(host)]), "spec": .object(["host": .string(host)])])
            rule.namespace = vs.namespace
        }
        var subsets = rule["spec.subsets"]?.array ?? []
        for v in Variant.allCases {
            let name = spec.variantLabel.value(v)
            if subsets.contains(where: { $0["name"]?.string == name }) { continue }
            subsets.append(.object(["name": .string(name), "labels": .object([spec.variantLabel.key: .string(name)])]))
        }
        rule["spec.subsets"] = .array(subsets)
        out.append(builder.primary([rule])[0])
        return out
    }

    /// "web" matches "web", "web.demo", "web.demo.svc.cluster.local".
    static func hostMatches(_ a: String?, _ host: String) -> Bool {
        guard let a else { return false }
        return a == host || a.hasPrefix(host + ".") || host.hasPrefix(a + ".")
    }
}
