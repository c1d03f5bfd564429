import FunctionKit
import Yams

/// Typed reads of a composed YAML tree. Each failure names the field's dotted path and the line of the
/// node that was wrong, so a user can fix their config without guessing.
struct YAMLFields {
    /// The value at `key` of `mapping`, or nil when the key is missing or explicitly null.
    static func child(_ mapping: Node.Mapping?, _ key: String) -> Node? {
        guard let node = mapping?[key] else { return nil }
        if case .scalar = node, node.tag.rawValue == Tag.Name.null.rawValue { return nil }
        return node
    }

    static func mapping(_ node: Node?, _ path: String) throws -> Node.Mapping? {
        guard let node else { return nil }
        guard let m = node.mapping else { throw wrongType(node, path, "a mapping") }
        return m
    }

    static func sequence(_ node: Node?, _ path: String) throws -> [Node]? {
        guard let node else { return nil }
        guard case .sequence(let s) = node else { throw wrongType(node, path, "a list") }
        return Array(s)
    }

    /// A scalar as text. Numbers and booleans are accepted as their written text (a name may be `2024`).
    static func string(_ node: Node?, _ path: String) throws -> String? {
        guard let node else { return nil }
        guard let s = node.scalar else { throw wrongType(node, path, "a string") }
        return s.string
    }

    static func bool(_ node: Node?, _ path: String) throws -> Bool? {
        guard let node else { return nil }
        if node.scalar != nil, node.tag.rawValue == Tag.Name.bool.rawValue, let b = node.bool { return b }
        throw wrongType(node, path, "true or false")
    }

    static func stringList(_ node: Node?, _ path: String) throws -> [String] {
        guard let items = try sequence(node, path) else { return [] }
        return try items.enumerated().map { i, item in
            guard let s = try string(item, "\(path)[\(i)]") else { throw wrongType(item, "\(path)[\(i)]", "a string") }
            return s
        }
    }

    static func stringMap(_ node: Node?, _ path: String) throws -> [String: String] {
        guard let m = try mapping(node, path) else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in m {
            let key = k.scalar?.string ?? ""
            out[key] = try string(v, "\(path).\(key)") ?? ""
        }
        return out
    }

    /// A Go-style duration ("10s", "1h30m") or a plain number of seconds.
    static func duration(_ node: Node?, _ path: String) throws -> Double? {
        guard let text = try string(node, path) else { return nil }
        do { return try DurationText.seconds(text) } catch {
            throw ConfigProblem(line: node?.mark?.line, message: "\(path): \(error)")
        }
    }

    static func wrongType(_ node: Node, _ path: String, _ expected: String) -> ConfigProblem {
        ConfigProblem(line: node.mark?.line, message: "\(path) must be \(expected), not \(describe(node))")
    }

    private static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let s): return "\"\(s.string.prefix(40))\""
        }
    }

    /// Any YAML value as JSON, keeping what was written: `60%` and `10s` stay strings, `3` becomes a number.
    static func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let s):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(s.string)
            case Tag.Name.int.rawValue:
                if let i = node.int { return .number(Double(i)) }
                return .string(s.string)
            case Tag.Name.float.rawValue:
                if let f = node.float, f.isFinite { return .number(f) }
                return .string(s.string)
            default: return .string(s.string)
            }
        case .mapping(let m):
            var out: [String: JSONValue] = [:]
            for (k, v) in m { out[k.scalar?.string ?? json(k).encoded()] = json(v) }
            return .object(out)
        case .sequence(let seq):
            return .array(seq.map(json))
        case .alias:
            return .null
        }
    }
}
