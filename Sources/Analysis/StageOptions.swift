import FunctionKit

/// The ANALYSIS stage's `with:` as PipeCD users write it: a `duration`, and `metrics` and `http` checks (PipeCD
/// spells the latter `https`; both are read). An entry may name a `template` instead of spelling itself out.
public struct AnalysisOptions: Decodable, Sendable {
    public var duration: DurationSetting?
    public var metrics: [Entry<MetricsSettings>]
    public var http: [Entry<HTTPSettings>]

    enum CodingKeys: String, CodingKey { case duration, metrics, http, https }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        duration = try c.decodeIfPresent(DurationSetting.self, forKey: .duration)
        metrics = try c.decodeIfPresent([Entry<MetricsSettings>].self, forKey: .metrics) ?? []
        http = (try c.decodeIfPresent([Entry<HTTPSettings>].self, forKey: .http) ?? [])
            + (try c.decodeIfPresent([Entry<HTTPSettings>].self, forKey: .https) ?? [])
    }

    /// A check as the stage writes it: its own settings, or a template reference (whose settings then apply).
    public struct Entry<Settings: Decodable & Sendable>: Decodable, Sendable {
        public var settings: Settings
        public var template: TemplateReference?

        enum CodingKeys: String, CodingKey { case template }
        public init(from decoder: Decoder) throws {
            settings = try Settings(from: decoder)
            template = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(TemplateReference.self, forKey: .template)
        }
    }
}

/// `template: {name, appArgs}`: which template of the repository's AnalysisTemplate, and the values its
/// `{{ .Args.x }}` (PipeCD: `{{ .AppCustomArgs.x }}`) placeholders take. `args` is read as `appArgs`.
public struct TemplateReference: Decodable, Sendable {
    public var name: String
    public var appArgs: [String: String]

    enum CodingKeys: String, CodingKey { case name, appArgs, args }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        appArgs = try c.decodeIfPresent(TextMap.self, forKey: .appArgs)?.values
            ?? c.decodeIfPresent(TextMap.self, forKey: .args)?.values ?? [:]
    }
}

/// One metrics check's settings (PipeCD's AnalysisMetrics), in a stage or a template.
public struct MetricsSettings: Decodable, Sendable {
    public var provider: String?
    public var query: String?
    public var interval: DurationSetting?
    public var expected: Expected?
    public var failureLimit: Int?
    public var skipOnNoData: Bool?
    public var strategy: String?
    public var deviation: String?
    public var timeout: DurationSetting?
    public var canaryArgs: TextMap?
    public var baselineArgs: TextMap?
    public var primaryArgs: TextMap?

    /// The range a THRESHOLD check's values must stay in; either bound may be absent.
    public struct Expected: Decodable, Sendable, Equatable {
        public var min: Double?
        public var max: Double?
        public init(min: Double? = nil, max: Double? = nil) { self.min = min; self.max = max }
        enum CodingKeys: String, CodingKey { case min, max }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            min = try c.decodeIfPresent(JSONValue.self, forKey: .min)?.number
            max = try c.decodeIfPresent(JSONValue.self, forKey: .max)?.number
        }
    }
}

/// One HTTP check's settings (PipeCD's AnalysisHTTP), in a stage or a template.
public struct HTTPSettings: Decodable, Sendable {
    public var url: String?
    public var method: String?
    public var headers: [Header]?
    public var expectedCode: Int?
    public var expectedResponse: String?
    public var interval: DurationSetting?
    public var failureLimit: Int?
    public var timeout: DurationSetting?

    public struct Header: Decodable, Sendable, Equatable {
        public var key: String
        public var value: String
        public init(key: String, value: String) { self.key = key; self.value = value }
    }
}

/// A map of texts that also takes numbers and booleans (`port: 8080` in YAML), as their text.
public struct TextMap: Decodable, Sendable, Equatable {
    public var values: [String: String]
    public init(_ values: [String: String]) { self.values = values }
    public init(from decoder: Decoder) throws {
        let raw = try [String: JSONValue](from: decoder)
        values = raw.compactMapValues { $0.string }
    }
}

/// A duration as written (`30s`, `1m`, or a bare number of seconds, which YAML makes a number).
public struct DurationSetting: Decodable, Sendable, Equatable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public init(from decoder: Decoder) throws {
        let raw = try JSONValue(from: decoder)
        guard let text = raw.string else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                debugDescription: "a duration such as 30s or 5m"))
        }
        self.text = text
    }
    /// Seconds, with the setting's name in the error.
    public func seconds(_ name: String) throws -> Double {
        do { return try DurationText.seconds(text) } catch { throw StageError.invalidStage("\(name): \(error)") }
    }
}
