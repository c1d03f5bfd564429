import FunctionKit

/// Where an alias sends traffic: its primary version and the extra versions with their share (0...1).
public struct AliasRouting: Sendable, Equatable, CustomStringConvertible {
    public var version: String
    public var weights: [String: Double]

    public init(version: String, weights: [String: Double] = [:]) { self.version = version; self.weights = weights }

    /// From GetAlias / CreateAlias / UpdateAlias answers.
    init(aliasJSON: JSONValue) {
        version = aliasJSON["FunctionVersion"]?.string ?? ""
        var weights: [String: Double] = [:]
        for (v, w) in aliasJSON["RoutingConfig"]?["AdditionalVersionWeights"]?.object ?? [:] { weights[v] = w.number ?? 0 }
        self.weights = weights
    }

    /// "version 1 (90%) + version 2 (10%)", or "version 2 (100%)".
    public var description: String {
        guard !weights.isEmpty else { return "version \(version) (100%)" }
        let rest = weights.values.reduce(0, +)
        return (["version \(version) (\(Self.percent(1 - rest)))"]
                + weights.sorted { $0.key < $1.key }.map { "version \($0.key) (\(Self.percent($0.value)))" })
            .joined(separator: " + ")
    }

    static func percent(_ share: Double) -> String {
        let p = (share * 1000).rounded() / 10
        return p.rounded() == p ? "\(Int(p))%" : "\(p)%"
    }

    /// The routing block UpdateAlias takes; an empty map removes every extra weight.
    var routingConfigJSON: JSONValue {
        .object(["AdditionalVersionWeights": .object(weights.mapValues { .number($0) })])
    }

    /// JSON for checkpoints.
    var json: JSONValue {
        .object(["version": .string(version), "weights": .object(weights.mapValues { .number($0) })])
    }

    init?(json: JSONValue?) {
        guard let json, let version = json["version"]?.string else { return nil }
        self.version = version
        weights = (json["weights"]?.object ?? [:]).compactMapValues(\.number)
    }
}

/// What GetFunction says about a function (the fields the stages compare and report).
public struct FunctionState: Sendable {
    public var name: String
    public var arn: String
    public var configuration: JSONValue
    public var imageURI: String?
    public var tags: [String: String]

    init(json: JSONValue) {
        configuration = json["Configuration"] ?? .object([:])
        name = configuration["FunctionName"]?.string ?? ""
        arn = configuration["FunctionArn"]?.string ?? ""
        imageURI = json["Code"]?["ImageUri"]?.string
        tags = (json["Tags"]?.object ?? [:]).compactMapValues(\.string)
    }

    public var codeSha256: String? { configuration["CodeSha256"]?.string }
}
