import Foundation
import FunctionKit
import Yams

/// Reads one `function.yaml` into a `FunctionSpec`. Every problem names the file and the YAML line, and a
/// bad value is a problem entry, never a crash. Unknown keys are ignored so additions to the protocol stay compatible.
enum FunctionYAML {
    struct Problems: Error { var messages: [String] }

    static func parse(_ text: String, file: String, folder: String) -> Result<FunctionSpec, Problems> {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { return .failure(Problems(messages: [describe(error, file: file)])) }
        guard let root, let map = root.mapping else {
            return .failure(Problems(messages: ["\(file):\(root?.mark?.line ?? 1): function.yaml must be a mapping (name, stages, command, ...)"]))
        }
        var reader = FieldReader(file: file, map: map, rootLine: root.mark?.line ?? 1)
        let folderName = URL(fileURLWithPath: folder).lastPathComponent
        let name = reader.string("name") ?? folderName
        let stages = reader.strings("stages", required: true) ?? []
        let command = reader.strings("command", required: true) ?? []
        if reader.node("command") != nil, command.isEmpty, reader.problems.isEmpty {
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
        if let limitsNode = reader.node("limits") {
            if let limits = limitsNode.mapping {
                var sub = FieldReader(file: file, map: limits, rootLine: limitsNode.mark?.line ?? 1, keyPrefix: "limits.")
                spec.limits.memoryBytes = sub.size("memory")
                spec.limits.cpuSeconds = sub.count("cpuSeconds", allowDuration: true)
                spec.limits.openFiles = sub.count("openFiles", allowDuration: false)
                reader.problems += sub.problems
            } else {
                reader.problems.append("\(file):\(limitsNode.mark?.line ?? 1): limits must be a mapping like {memory: 256Mi, cpuSeconds: 60, openFiles: 256}")
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
        if let node = reader.node("concurrency") {
            if let map = node.mapping {
                var sub = FieldReader(file: file, map: map, rootLine: node.mark?.line ?? 1, keyPrefix: "concurrency.")
                let key = sub.string("key")
                let limit = sub.wholeNumber("limit", minimum: 1)
                if sub.node("key") == nil { sub.problems.append("\(file):\(node.mark?.line ?? 1): concurrency.key is missing") }
                if sub.node("limit") == nil { sub.problems.append("\(file):\(node.mark?.line ?? 1): concurrency.limit is missing") }
                if let key, !FunctionConcurrency.keys.contains(key) {
                    sub.problems.append("\(file):\(sub.line(of: "key")): concurrency.key: must be one of \(FunctionConcurrency.keys.joined(separator: ", ")), got \"\(key)\"")
                }
                if sub.problems.isEmpty, let key, let limit { spec.concurrency = FunctionConcurrency(key: key, limit: limit) }
                reader.problems += sub.problems
            } else {
                reader.problems.append("\(file):\(node.mark?.line ?? 1): concurrency must be a mapping like {key: application, limit: 1}")
            }
        }
        if let node = reader.node("appKinds") {
            spec.appKinds = appKinds(node, spec: spec, reader: &reader)
        }
        if spec.timeout <= 0 {
            reader.problems.append("\(file):\(reader.line(of: "timeout")): timeout must be more than 0")
        }
        return reader.problems.isEmpty ? .success(spec) : .failure(Problems(messages: reader.problems))
    }

    /// `appKinds: [{kind: KubernetesApp, syncStage: K8S_SYNC, determinesStrategy: true}]`. A kind belongs to a
    /// platform, so the function must name its `platform:`; its quick sync must be one of its own stages.
    private static func appKinds(_ node: Node, spec: FunctionSpec, reader: inout FieldReader) -> [AppKindDeclaration] {
        let file = reader.file
        guard let items = node.sequence else {
            reader.problems.append("\(file):\(node.mark?.line ?? 1): appKinds must be a list like [{kind: KubernetesApp, syncStage: K8S_SYNC}]")
            return []
        }
        if spec.platform == nil {
            reader.problems.append("\(file):\(node.mark?.line ?? 1): appKinds needs platform: (the platform kind its apps deploy to)")
        }
        var out: [AppKindDeclaration] = []
        for item in items {
            let line = item.mark?.line ?? 1
            guard let map = item.mapping else {
                reader.problems.append("\(file):\(line): appKinds: every item must be a mapping with kind and syncStage")
                continue
            }
            var sub = FieldReader(file: file, map: map, rootLine: line, keyPrefix: "appKinds.")
            let kind = sub.string("kind"), syncStage = sub.string("syncStage")
            let determines = sub.bool("determinesStrategy") ?? false
            if sub.node("kind") == nil { sub.problems.append("\(file):\(line): appKinds.kind is missing") }
            if sub.node("syncStage") == nil { sub.problems.append("\(file):\(line): appKinds.syncStage is missing") }
            if let syncStage, !spec.stages.contains(syncStage) {
                sub.problems.append("\(file):\(sub.line(of: "syncStage")): appKinds.syncStage: \(syncStage) is not one of "
                                    + "this function's stages")
            }
            reader.problems += sub.problems
            if sub.problems.isEmpty, let kind, let syncStage {
                out.append(AppKindDeclaration(kind: kind, syncStage: syncStage, determinesStrategy: determines))
            }
        }
        return out
    }

    /// "file:LINE: problem" from a Yams error.
    static func describe(_ error: Error, file: String) -> String {
        if let y = error as? YamlError {
            switch y {
            case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
                return "\(file):\(mark.line): invalid YAML: \(problem)"
            case let .duplicatedKeysInMapping(duplicates, context):
                return "\(file):\(context.mark.line): duplicate key(s) \(duplicates.sorted().joined(separator: ", "))"
            default:
                break
            }
        }
        let first = String(describing: error).split(separator: "\n").first.map(String.init) ?? "unreadable"
        return "\(file): invalid YAML: \(first)"
    }
}

/// Typed access to one YAML mapping, collecting problems with line numbers instead of throwing.
private struct FieldReader {
    let file: String
    let map: Node.Mapping
    let rootLine: Int
    /// Names a nested key in messages, e.g. "limits.".
    let keyPrefix: String
    var problems: [String] = []

    init(file: String, map: Node.Mapping, rootLine: Int, keyPrefix: String = "") {
        self.file = file; self.map = map; self.rootLine = rootLine; self.keyPrefix = keyPrefix
    }

    func node(_ key: String) -> Node? {
        guard let n = map[key] else { return nil }
        if let s = n.scalar, s.style == .plain, n.null != nil {
            return nil // `key:` with no value means "not set"
        }
        return n
    }

    func line(of key: String) -> Int { map[key]?.mark?.line ?? rootLine }

    private mutating func problem(_ key: String, _ text: String) {
        problems.append("\(file):\(line(of: key)): \(keyPrefix)\(key): \(text)")
    }

    mutating func string(_ key: String) -> String? {
        guard let n = node(key) else { return nil }
        guard let s = n.scalar?.string, !s.isEmpty else { problem(key, "must be a text value"); return nil }
        return s
    }

    /// A list of strings; a single string is taken as a one-element list.
    mutating func strings(_ key: String, required: Bool) -> [String]? {
        guard let n = node(key) else {
            if required { problems.append("\(file):\(rootLine): \(key) is missing") }
            return nil
        }
        if let s = n.scalar?.string { return [s] }
        guard let seq = n.sequence else { problem(key, "must be a list of text values"); return nil }
        var out: [String] = []
        for item in seq {
            guard let s = item.scalar?.string else {
                problems.append("\(file):\(item.mark?.line ?? line(of: key)): \(key): every item must be a text value")
                return nil
            }
            out.append(s)
        }
        return out
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let n = node(key) else { return nil }
        guard let b = n.bool else { problem(key, "must be true or false"); return nil }
        return b
    }

    /// Seconds from "5m" / "1h30m" / a bare number.
    mutating func duration(_ key: String) -> Double? {
        guard let n = node(key) else { return nil }
        guard let s = n.scalar?.string else { problem(key, "must be a duration like 30s or 5m"); return nil }
        do { return try DurationText.seconds(s) } catch { problem(key, String(describing: error)); return nil }
    }

    mutating func size(_ key: String) -> UInt64? {
        guard let n = node(key) else { return nil }
        guard let s = n.scalar?.string else { problem(key, "must be a size like 256Mi"); return nil }
        do { return try ByteSize.bytes(s) } catch { problem(key, String(describing: error)); return nil }
    }

    /// A whole number of at least `minimum`.
    mutating func wholeNumber(_ key: String, minimum: Int) -> Int? {
        guard let n = node(key) else { return nil }
        let s = n.scalar?.string ?? ""
        if let v = Int(s), v >= minimum { return v }
        problem(key, "must be a whole number of at least \(minimum), got \"\(s)\"")
        return nil
    }

    /// A list of whole numbers, each at least `minimum`.
    mutating func wholeNumbers(_ key: String, minimum: Int) -> [Int]? {
        guard let n = node(key) else { return nil }
        let items = n.sequence.map(Array.init) ?? [n]
        var out: [Int] = []
        for item in items {
            let s = item.scalar?.string ?? ""
            guard let v = Int(s), v >= minimum else {
                problems.append("\(file):\(item.mark?.line ?? line(of: key)): \(keyPrefix)\(key): every item must be a whole number of at least \(minimum), got \"\(s)\"")
                return nil
            }
            out.append(v)
        }
        return out
    }

    /// A positive whole number; with `allowDuration`, "60s" / "1m" are accepted too (as seconds).
    mutating func count(_ key: String, allowDuration: Bool) -> UInt64? {
        guard let n = node(key) else { return nil }
        let s = n.scalar?.string ?? ""
        if let v = UInt64(s), v > 0 { return v }
        if allowDuration, let seconds = try? DurationText.seconds(s), seconds >= 1 { return UInt64(seconds.rounded(.up)) }
        problem(key, "must be a positive whole number, got \"\(s)\"")
        return nil
    }
}
