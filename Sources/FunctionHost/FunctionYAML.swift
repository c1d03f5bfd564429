import Foundation
import FunctionKit
import RepositoryYAML

/// Reads one `function.yaml` into a `FunctionSpec`. Every problem names the file and the YAML line, and a
/// bad value is a problem entry, never a crash. Unknown keys are ignored so additions to the protocol stay compatible.
enum FunctionYAML {
    struct Problems: Error { var messages: [String] }

    static func parse(_ text: String, file: String, folder: String) -> Result<FunctionSpec, Problems> {
        let root: YAMLField
        do { root = YAMLField(root: try RepositoryYAML.read(text)) } catch {
            let unreadable = RepositoryYAML.Unreadable(error)
            return .failure(Problems(messages: ["\(file)\(unreadable.line.map { ":\($0)" } ?? ""): \(unreadable.message)"]))
        }
        guard root.node?.mapping != nil else {
            return .failure(Problems(messages: ["\(file):\(root.line ?? 1): function.yaml must be a mapping (name, stages, command, ...)"]))
        }
        var reader = FieldReader(file: file, mapping: root)
        let folderName = URL(fileURLWithPath: folder).lastPathComponent
        let name = reader.string("name") ?? folderName
        let stages = reader.strings("stages", required: true) ?? []
        let command = reader.strings("command", required: true) ?? []
        if reader.field("command") != nil, command.isEmpty, reader.problems.isEmpty {
            reader.problems.append("\(file):\(reader.line(of: "command")): command must name a program")
        }
        var spec = FunctionSpec(name: name, stages: stages, command: command, folder: folder)
        spec.timeout = reader.duration("timeout") ?? FunctionSpec.defaultTimeout
        spec.gracePeriod = reader.duration("gracePeriod") ?? FunctionSpec.defaultGracePeriod
        spec.heartbeatTimeout = reader.duration("heartbeatTimeout")
        spec.env = reader.strings("env", required: false) ?? []
        spec.platform = reader.string("platform")
        if let network = reader.string("network") {
            if let value = FunctionNetwork(rawValue: network) { spec.network = value } else {
                reader.problems.append("\(file):\(reader.line(of: "network")): network: must be none or host, got \"\(network)\"")
            }
        }
        if let limits = reader.field("limits") {
            if limits.node?.mapping != nil {
                var sub = FieldReader(file: file, mapping: limits, keyPrefix: "limits.")
                spec.limits.memoryBytes = sub.size("memory")
                spec.limits.cpuSeconds = sub.count("cpuSeconds", allowDuration: true)
                spec.limits.openFiles = sub.count("openFiles", allowDuration: false)
                reader.problems += sub.problems
            } else {
                reader.problems.append("\(file):\(limits.line ?? 1): limits must be a mapping like {memory: 256Mi, cpuSeconds: 60, openFiles: 256}")
            }
        }
        if let n = reader.wholeNumber("maxRecoveries", minimum: 0) { spec.maxRecoveries = n }
        spec.checkpointSchemas = reader.wholeNumbers("checkpointSchemas", minimum: 1)
        spec.requires = reader.strings("requires", required: false) ?? []
        spec.secrets = reader.strings("secrets", required: false) ?? []
        for name in spec.secrets where !SecretName.isValid(name) {
            reader.problems.append("\(file):\(reader.line(of: "secrets")): secrets: \"\(name)\" is not a valid secret name (\(SecretName.rule))")
        }
        spec.serverConfig = reader.strings("serverConfig", required: false) ?? []
        if let concurrency = reader.field("concurrency") {
            let line = concurrency.line ?? 1
            if concurrency.node?.mapping != nil {
                var sub = FieldReader(file: file, mapping: concurrency, keyPrefix: "concurrency.")
                let key = sub.string("key")
                let limit = sub.wholeNumber("limit", minimum: 1)
                if sub.field("key") == nil { sub.problems.append("\(file):\(line): concurrency.key is missing") }
                if sub.field("limit") == nil { sub.problems.append("\(file):\(line): concurrency.limit is missing") }
                if let key, !FunctionConcurrency.keys.contains(key) {
                    sub.problems.append("\(file):\(sub.line(of: "key")): concurrency.key: must be one of \(FunctionConcurrency.keys.joined(separator: ", ")), got \"\(key)\"")
                }
                if sub.problems.isEmpty, let key, let limit { spec.concurrency = FunctionConcurrency(key: key, limit: limit) }
                reader.problems += sub.problems
            } else {
                reader.problems.append("\(file):\(line): concurrency must be a mapping like {key: application, limit: 1}")
            }
        }
        if let kinds = reader.field("appKinds") {
            spec.appKinds = appKinds(kinds, spec: spec, reader: &reader)
        }
        if spec.timeout <= 0 {
            reader.problems.append("\(file):\(reader.line(of: "timeout")): timeout must be more than 0")
        }
        return reader.problems.isEmpty ? .success(spec) : .failure(Problems(messages: reader.problems))
    }

    /// `appKinds: [{kind: KubernetesApp, syncStage: K8S_SYNC, determinesStrategy: true, plugin: kubernetes,
    /// configKeys: [input, ...]}]`. A kind belongs to a platform, so the function must name its `platform:`; its
    /// quick sync must be one of its own stages.
    private static func appKinds(_ field: YAMLField, spec: FunctionSpec, reader: inout FieldReader) -> [AppKindDeclaration] {
        let file = reader.file, line = field.line ?? 1
        guard let items = try? field.items() else {
            reader.problems.append("\(file):\(line): appKinds must be a list like [{kind: KubernetesApp, syncStage: K8S_SYNC}]")
            return []
        }
        if spec.platform == nil {
            reader.problems.append("\(file):\(line): appKinds needs platform: (the platform kind its apps deploy to)")
        }
        var out: [AppKindDeclaration] = []
        for item in items {
            let itemLine = item.line ?? line
            guard item.node?.mapping != nil else {
                reader.problems.append("\(file):\(itemLine): appKinds: every item must be a mapping with kind and syncStage")
                continue
            }
            var sub = FieldReader(file: file, mapping: item, keyPrefix: "appKinds.")
            let kind = sub.string("kind"), syncStage = sub.string("syncStage")
            let determines = sub.bool("determinesStrategy") ?? false
            let plugin = sub.string("plugin")
            let configKeys = sub.strings("configKeys", required: false) ?? []
            if sub.field("kind") == nil { sub.problems.append("\(file):\(itemLine): appKinds.kind is missing") }
            if sub.field("syncStage") == nil { sub.problems.append("\(file):\(itemLine): appKinds.syncStage is missing") }
            if let syncStage, !spec.stages.contains(syncStage) {
                sub.problems.append("\(file):\(sub.line(of: "syncStage")): appKinds.syncStage: \(syncStage) is not one of "
                                    + "this function's stages")
            }
            reader.problems += sub.problems
            if sub.problems.isEmpty, let kind, let syncStage {
                out.append(AppKindDeclaration(kind: kind, syncStage: syncStage, determinesStrategy: determines,
                                              plugin: plugin, configKeys: configKeys))
            }
        }
        return out
    }
}

/// Typed access to one mapping of function.yaml, collecting problems with line numbers instead of throwing, so
/// one read reports every bad field.
private struct FieldReader {
    let file: String
    let mapping: YAMLField
    /// Names a nested key in messages, e.g. "limits.".
    let keyPrefix: String
    var problems: [String] = []

    init(file: String, mapping: YAMLField, keyPrefix: String = "") {
        self.file = file; self.mapping = mapping; self.keyPrefix = keyPrefix
    }

    /// The field at `key`; nil when it is missing or `key:` has no value ("not set").
    func field(_ key: String) -> YAMLField? {
        guard let field = try? mapping.field(key), field.node != nil else { return nil }
        return field
    }

    /// The key's line, or the mapping's when the key is missing.
    func line(of key: String) -> Int { (try? mapping.field(key))?.line ?? mapping.line ?? 1 }

    /// A set key's scalar text; nil when the key is not set or is not a scalar.
    private func text(_ key: String) -> String? { field(key)?.node?.scalar?.string }

    private mutating func problem(_ key: String, _ text: String) {
        problems.append("\(file):\(line(of: key)): \(keyPrefix)\(key): \(text)")
    }

    mutating func string(_ key: String) -> String? {
        guard field(key) != nil else { return nil }
        guard let s = text(key), !s.isEmpty else { problem(key, "must be a text value"); return nil }
        return s
    }

    /// A list of strings; a single string is taken as a one-element list.
    mutating func strings(_ key: String, required: Bool) -> [String]? {
        guard let list = field(key) else {
            if required { problems.append("\(file):\(mapping.line ?? 1): \(key) is missing") }
            return nil
        }
        if let s = text(key) { return [s] }
        guard let items = try? list.items() else { problem(key, "must be a list of text values"); return nil }
        var out: [String] = []
        for item in items {
            guard let s = item.node?.scalar?.string else {
                problems.append("\(file):\(item.line ?? line(of: key)): \(key): every item must be a text value")
                return nil
            }
            out.append(s)
        }
        return out
    }

    mutating func bool(_ key: String) -> Bool? {
        guard field(key) != nil else { return nil }
        switch text(key) {
        case "true"?: return true
        case "false"?: return false
        default: problem(key, "must be true or false"); return nil
        }
    }

    /// Seconds from "5m" / "1h30m" / a bare number.
    mutating func duration(_ key: String) -> Double? {
        guard field(key) != nil else { return nil }
        guard let s = text(key) else { problem(key, "must be a duration like 30s or 5m"); return nil }
        do { return try DurationText.seconds(s) } catch { problem(key, String(describing: error)); return nil }
    }

    mutating func size(_ key: String) -> UInt64? {
        guard field(key) != nil else { return nil }
        guard let s = text(key) else { problem(key, "must be a size like 256Mi"); return nil }
        do { return try ByteSize.bytes(s) } catch { problem(key, String(describing: error)); return nil }
    }

    /// A whole number of at least `minimum`.
    mutating func wholeNumber(_ key: String, minimum: Int) -> Int? {
        guard field(key) != nil else { return nil }
        let s = text(key) ?? ""
        if let v = Int(s), v >= minimum { return v }
        problem(key, "must be a whole number of at least \(minimum), got \"\(s)\"")
        return nil
    }

    /// A list of whole numbers, each at least `minimum`; a single number is taken as a one-element list.
    mutating func wholeNumbers(_ key: String, minimum: Int) -> [Int]? {
        guard let list = field(key) else { return nil }
        let items = (try? list.items()) ?? [list]
        var out: [Int] = []
        for item in items {
            let s = item.node?.scalar?.string ?? ""
            guard let v = Int(s), v >= minimum else {
                problems.append("\(file):\(item.line ?? line(of: key)): \(keyPrefix)\(key): every item must be a whole number of at least \(minimum), got \"\(s)\"")
                return nil
            }
            out.append(v)
        }
        return out
    }

    /// A positive whole number; with `allowDuration`, "60s" / "1m" are accepted too (as seconds).
    mutating func count(_ key: String, allowDuration: Bool) -> UInt64? {
        guard field(key) != nil else { return nil }
        let s = text(key) ?? ""
        if let v = UInt64(s), v > 0 { return v }
        if allowDuration, let seconds = try? DurationText.seconds(s), seconds >= 1 { return UInt64(seconds.rounded(.up)) }
        problem(key, "must be a positive whole number, got \"\(s)\"")
        return nil
    }
}
